import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Tx } from '../database/transactions';
import type { LockedCase } from '../domain/case';
import type { EscalationTarget, WorkItemKind } from '../domain/escalations';
import { trimRate } from '../domain/late-fee';
import { formatMinorUnits } from '../domain/money';
import { isOpen } from '../domain/statuses';
import type { TouchInput } from '../domain/touch-kinds';
import { AgencyWebhooks } from './agency-webhooks';
import { PlacementRepository } from './placement.repository';
import { WorkItemRepository } from './work-item.repository';

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

/**
 * Hands a case to people: a collector's work queue, legal review, or an external agency. Runs in
 * the caller's transaction, which holds the case's lock, so the look-ups below and the inserts
 * that follow them cannot race with another writer of the case.
 */
@Injectable()
export class EscalationService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly webhooks: AgencyWebhooks,
    private readonly workItems: WorkItemRepository,
    private readonly placements: PlacementRepository,
  ) {}

  async escalate(tx: Tx, kase: LockedCase, to: EscalationTarget, actor: string, context: EscalationContext = {}): Promise<Escalation> {
    if (!isOpen(kase.status)) throw new DomainError('conflict', `case ${kase.id} is ${kase.status}: there is nothing to escalate`);
    const stepId = context.stepId ?? null;
    const reason = context.reason?.trim() || (stepId ? `the ladder escalates the case to ${to}` : `escalated to ${to} by ${actor}`);
    return to === 'agency' ? this.place(tx, kase, stepId, reason, actor) : this.openWorkItem(tx, kase.id, to, stepId, reason, actor);
  }

  /** One unfinished item per case and kind: a later escalation while a person works the case adds nothing. */
  private async openWorkItem(tx: Tx, caseId: string, kind: WorkItemKind, stepId: string | null, reason: string, actor: string): Promise<Escalation> {
    const existing = await this.workItems.findForEscalation(tx, caseId, stepId, kind);
    if (existing) return { touches: [], target: { to: kind, workItemId: existing, created: false } };
    const id = randomUUID();
    await this.workItems.insert(tx, { id, caseId, stepId, kind, reason, at: this.clock.now(), by: actor });
    return {
      touches: [{ kind: 'escalation.created', actor, data: { to: kind, workItemId: id, reason, ...(stepId ? { stepId } : {}) } }],
      target: { to: kind, workItemId: id, created: true },
    };
  }

  /** One placement per case: the agency is paid a commission on it, so a second placement would be a second claim. */
  private async place(tx: Tx, kase: LockedCase, stepId: string | null, reason: string, actor: string): Promise<Escalation> {
    const existing = await this.placements.ofCase(tx, kase.id);
    if (existing) {
      // A rerun after a commit whose enqueue was lost sends the webhook now rather than at the next sweep.
      const afterCommit = existing.webhookStatus === 'pending' ? () => this.notify(existing.id) : undefined;
      return { touches: [], afterCommit, target: { to: 'agency', placementId: existing.id, created: false } };
    }
    if (kase.balanceMinor <= 0n) throw new DomainError('conflict', `case ${kase.id} has no balance to place with an agency`);
    const id = randomUUID();
    const agency = this.config.AGENCY_NAME;
    const commissionRate = trimRate(this.config.AGENCY_COMMISSION_RATE);
    const webhook = this.webhooks.enabled ? 'pending' : 'none';
    await this.placements.insert(tx, {
      id,
      caseId: kase.id,
      stepId,
      agency,
      commissionRate,
      reason,
      at: this.clock.now(),
      by: actor,
      balanceMinor: kase.balanceMinor,
      currency: kase.currency,
      webhook,
    });
    return {
      touches: [
        { kind: 'escalation.created', actor, data: { to: 'agency', placementId: id, reason, ...(stepId ? { stepId } : {}) } },
        {
          kind: 'agency.placed',
          actor,
          data: { placementId: id, agency, commissionRate, balance: formatMinorUnits(kase.balanceMinor, kase.currency), currency: kase.currency, webhook },
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
