import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { TouchInput } from '../domain/touch-kinds';
import { DomainError, NotFound } from '../common/errors';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import { CaseHolds, HOLD_EFFECTS, type HeldCase, type HoldKind, type QueueEffects } from './case-holds.service';
import { Commitments, type Instalment } from './commitments.service';

/** Holds an operator may place or lift; promise and plan holds follow their promise or plan. */
export const OPERATOR_HOLD_KINDS = ['manual', 'dispute', 'cease-contact', 'deceased', 'bankrupt'] as const satisfies readonly HoldKind[];

/**
 * Operator commands on one case: each runs in a transaction holding the case lock, records its
 * touches, and adjusts the queue once committed.
 */
@Injectable()
export class CaseCommands {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly holds: CaseHolds,
    private readonly scheduler: StepScheduler,
    private readonly commitments: Commitments,
  ) {}

  /** Runs `change` on an open case; it returns its touches and its answer. */
  async onOpenCase<T>(
    caseId: string,
    change: (m: EntityManager, kase: HeldCase, effects: QueueEffects) => Promise<{ touches: TouchInput[]; result: T }>,
  ): Promise<T> {
    const effects: QueueEffects = { enqueue: [], withdraw: [] };
    const result = await this.dataSource.transaction(async (m) => {
      const [kase]: HeldCase[] = await m.query('SELECT id, status FROM cases WHERE id = $1 FOR UPDATE', [caseId]);
      if (!kase) throw new NotFound('case', caseId);
      if (kase.status !== 'active' && kase.status !== 'on_hold')
        throw new DomainError('conflict', `case ${caseId} is ${kase.status}; only an open case can change`);
      const changed = await change(m, kase, effects);
      await this.audit.record(m, caseId, changed.touches);
      return changed.result;
    });
    await this.scheduler.withdraw(effects.withdraw);
    await this.scheduler.enqueue(effects.enqueue);
    return result;
  }

  placeHold(caseId: string, kind: (typeof OPERATOR_HOLD_KINDS)[number], reason: string, actor: string) {
    return this.onOpenCase(caseId, async (m, kase, effects) => {
      const { holdId, touches } = await this.holds.place(m, kase, kind, reason, actor, effects);
      return { touches, result: { id: holdId, kind, reason, effect: HOLD_EFFECTS[kind], caseStatus: kase.status } };
    });
  }

  releaseHold(caseId: string, holdId: string, reason: string, actor: string) {
    return this.onOpenCase(caseId, async (m, kase, effects) => {
      const [hold]: { kind: HoldKind; released_at: Date | null }[] = await m.query('SELECT kind, released_at FROM holds WHERE id = $1 AND case_id = $2', [
        holdId,
        caseId,
      ]);
      if (!hold) throw new NotFound('hold', holdId);
      if (hold.released_at) throw new DomainError('conflict', `hold ${holdId} was already released`);
      if (!(OPERATOR_HOLD_KINDS as readonly string[]).includes(hold.kind)) {
        throw new DomainError('conflict', `a ${hold.kind} hold ends with its ${hold.kind}; it cannot be released by hand`);
      }
      const touches = await this.holds.release(m, kase, { holdIds: [holdId] }, reason, actor, effects);
      return { touches, result: { id: holdId, released: true, caseStatus: kase.status } };
    });
  }

  recordPromise(caseId: string, amount: string, dueDate: string, actor: string) {
    return this.onOpenCase(caseId, async (m, _kase, effects) => {
      const kase = (await this.commitments.lockCase(m, caseId))!;
      const { id, touches } = await this.commitments.promise(m, kase, amount, dueDate, actor, 'operator', effects);
      return { touches, result: { id, amount, currency: kase.currency, dueDate, status: 'open', caseStatus: kase.status } };
    });
  }

  agreePlan(caseId: string, instalments: Instalment[], actor: string) {
    return this.onOpenCase(caseId, async (m, _kase, effects) => {
      const kase = (await this.commitments.lockCase(m, caseId))!;
      const { id, touches } = await this.commitments.plan(m, kase, instalments, actor, effects);
      return { touches, result: { id, status: 'active', currency: kase.currency, instalments, caseStatus: kase.status } };
    });
  }
}
