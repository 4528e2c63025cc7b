import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { TouchInput } from '../domain/touch-kinds';
import { Clock } from '../common/clock';
import { DomainError, NotFound } from '../common/errors';
import { formatMinorUnits } from '../domain/money';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { trimRate } from '../domain/late-fee';
import { AgencyWebhooks } from './agency-webhooks';

export const ESCALATION_TARGETS = ['collector', 'agency', 'legal'] as const;
export type EscalationTarget = (typeof ESCALATION_TARGETS)[number];

export interface EscalationContext {
  /** The ladder step that escalates: escalating the same step again creates nothing new. */
  stepId?: string;
  reason?: string;
}

export interface Escalation {
  /** For the caller to record on the case's trail, in its transaction (empty when nothing new was made). */
  touches: TouchInput[];
  /** Run after the caller's transaction commits: enqueues the agency webhook. */
  afterCommit?: () => Promise<void>;
  /** The work item or placement that carries the escalation; `created` is false when an existing one did. */
  target: { to: EscalationTarget; workItemId?: string; placementId?: string; created: boolean };
}

const CLOSED_CASE = new Set(['resolved', 'cancelled', 'written_off', 'closed']);

/**
 * Hands a case to people: a collector's work queue, legal review, or an external agency.
 * Runs inside the caller's transaction, which holds (or here takes) the case row lock, so the
 * look-ups below and the inserts that follow them cannot race with another writer of the case.
 */
@Injectable()
export class EscalationService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly webhooks: AgencyWebhooks,
  ) {}

  async escalate(m: EntityManager, caseId: string, to: EscalationTarget, actor: string, context: EscalationContext = {}): Promise<Escalation> {
    // The caller holds the lock already; taking it again in the same transaction costs nothing and makes this safe alone.
    const [kase]: { status: string; balance_minor: string; currency: string }[] = await m.query(
      'SELECT status, balance_minor, trim(currency) AS currency FROM cases WHERE id = $1 FOR UPDATE',
      [caseId],
    );
    if (!kase) throw new NotFound('case', caseId);
    if (CLOSED_CASE.has(kase.status)) throw new DomainError('conflict', `case ${caseId} is ${kase.status}: there is nothing to escalate`);
    const stepId = context.stepId ?? null;
    const reason = context.reason?.trim() || (stepId ? `the ladder escalates the case to ${to}` : `escalated to ${to} by ${actor}`);
    return to === 'agency' ? this.place(m, caseId, kase, stepId, reason, actor) : this.openWorkItem(m, caseId, to, stepId, reason, actor);
  }

  /** One unfinished item per case and kind: a later escalation while a person works the case adds nothing. */
  private async openWorkItem(
    m: EntityManager,
    caseId: string,
    kind: 'collector' | 'legal',
    stepId: string | null,
    reason: string,
    actor: string,
  ): Promise<Escalation> {
    const [existing]: { id: string }[] = await m.query(
      `SELECT id FROM work_items WHERE case_id = $1 AND (step_id = $2 OR (kind = $3 AND status <> 'done'))
       ORDER BY (step_id IS NOT DISTINCT FROM $2) DESC, created_at LIMIT 1`,
      [caseId, stepId, kind],
    );
    if (existing) return { touches: [], target: { to: kind, workItemId: existing.id, created: false } };
    const id = randomUUID();
    await m.query(`INSERT INTO work_items (id, case_id, step_id, kind, status, reason, created_at, created_by) VALUES ($1, $2, $3, $4, 'open', $5, $6, $7)`, [
      id,
      caseId,
      stepId,
      kind,
      reason,
      this.clock.now(),
      actor,
    ]);
    return {
      touches: [{ kind: 'escalation.created', actor, data: { to: kind, workItemId: id, reason, ...(stepId ? { stepId } : {}) } }],
      target: { to: kind, workItemId: id, created: true },
    };
  }

  /** One placement per case: the agency is paid a commission on it, so a second placement would be a second claim. */
  private async place(
    m: EntityManager,
    caseId: string,
    kase: { balance_minor: string; currency: string },
    stepId: string | null,
    reason: string,
    actor: string,
  ): Promise<Escalation> {
    const [existing]: { id: string; webhook_status: string }[] = await m.query('SELECT id, webhook_status FROM agency_placements WHERE case_id = $1', [caseId]);
    if (existing) {
      // A rerun after a commit whose enqueue was lost sends the webhook now rather than at the next sweep.
      const afterCommit = existing.webhook_status === 'pending' ? () => this.notify(existing.id) : undefined;
      return { touches: [], afterCommit, target: { to: 'agency', placementId: existing.id, created: false } };
    }
    const balance = BigInt(kase.balance_minor);
    if (balance <= 0n) throw new DomainError('conflict', `case ${caseId} has no balance to place with an agency`);
    const id = randomUUID();
    const agency = this.config.AGENCY_NAME;
    const commissionRate = trimRate(this.config.AGENCY_COMMISSION_RATE);
    const webhook = this.webhooks.enabled ? 'pending' : 'none';
    await m.query(
      `INSERT INTO agency_placements (id, case_id, step_id, agency, commission_rate, reason, placed_at, placed_by, balance_minor, currency, webhook_status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [id, caseId, stepId, agency, commissionRate, reason, this.clock.now(), actor, kase.balance_minor, kase.currency, webhook],
    );
    return {
      touches: [
        { kind: 'escalation.created', actor, data: { to: 'agency', placementId: id, reason, ...(stepId ? { stepId } : {}) } },
        {
          kind: 'agency.placed',
          actor,
          data: { placementId: id, agency, commissionRate, balance: formatMinorUnits(balance, kase.currency), currency: kase.currency, webhook },
        },
      ],
      afterCommit: webhook === 'pending' ? () => this.notify(id) : undefined,
      target: { to: 'agency', placementId: id, created: true },
    };
  }

  private async notify(placementId: string): Promise<void> {
    await this.webhooks.enqueue([placementId]);
  }
}
