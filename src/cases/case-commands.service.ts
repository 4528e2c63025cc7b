import { Injectable } from '@nestjs/common';
import { DomainError, NotFound } from '../common/errors';
import { Transactions, type Tx } from '../database/transactions';
import type { Instalment } from '../domain/commitments';
import { HOLD_EFFECTS, OPERATOR_HOLD_KINDS } from '../domain/holds';
import { isOpen } from '../domain/statuses';
import { noQueueEffects, type QueueEffects } from '../domain/step';
import type { TouchInput } from '../domain/touch-kinds';
import { AuditService } from '../audit/audit.service';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import { CaseRepository, type CommittedCase } from './case.repository';
import { CaseHolds } from './case-holds.service';
import { Commitments } from './commitments.service';
import { HoldRepository } from './hold.repository';

/**
 * Operator commands on one case: each runs in a transaction holding the case lock, records its
 * touches, and adjusts the queue once committed.
 */
@Injectable()
export class CaseCommands {
  constructor(
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly holds: CaseHolds,
    private readonly scheduler: StepScheduler,
    private readonly commitments: Commitments,
    private readonly cases: CaseRepository,
    private readonly holdRows: HoldRepository,
  ) {}

  /** Runs `change` on an open case, locked; it returns its touches and its answer. */
  async onOpenCase<T>(
    caseId: string,
    change: (tx: Tx, kase: CommittedCase, effects: QueueEffects) => Promise<{ touches: TouchInput[]; result: T }>,
  ): Promise<T> {
    const effects = noQueueEffects();
    const result = await this.transactions.run(async (tx) => {
      const kase = await this.cases.lockCommitted(tx, caseId);
      if (!kase) throw new NotFound('case', caseId);
      if (!isOpen(kase.status)) throw new DomainError('conflict', `case ${caseId} is ${kase.status}; only an open case can change`);
      const changed = await change(tx, kase, effects);
      await this.audit.record(tx, caseId, changed.touches);
      return changed.result;
    });
    await this.scheduler.apply(effects);
    return result;
  }

  placeHold(caseId: string, kind: (typeof OPERATOR_HOLD_KINDS)[number], reason: string, actor: string) {
    return this.onOpenCase(caseId, async (tx, kase, effects) => {
      const { holdId, touches } = await this.holds.place(tx, kase, kind, reason, actor, effects);
      return { touches, result: { id: holdId, kind, reason, effect: HOLD_EFFECTS[kind], caseStatus: kase.status } };
    });
  }

  releaseHold(caseId: string, holdId: string, reason: string, actor: string) {
    return this.onOpenCase(caseId, async (tx, kase, effects) => {
      const hold = await this.holdRows.get(tx, caseId, holdId);
      if (!hold) throw new NotFound('hold', holdId);
      if (hold.releasedAt) throw new DomainError('conflict', `hold ${holdId} was already released`);
      if (!(OPERATOR_HOLD_KINDS as readonly string[]).includes(hold.kind)) {
        throw new DomainError('conflict', `a ${hold.kind} hold ends with its ${hold.kind}; it cannot be released by hand`);
      }
      const touches = await this.holds.release(tx, kase, { holdIds: [holdId] }, reason, actor, effects);
      return { touches, result: { id: holdId, released: true, caseStatus: kase.status } };
    });
  }

  recordPromise(caseId: string, amount: string, dueDate: string, actor: string, source = 'operator') {
    return this.onOpenCase(caseId, async (tx, kase, effects) => {
      const { id, touches } = await this.commitments.promise(tx, kase, amount, dueDate, actor, source, effects);
      return { touches, result: { id, amount, currency: kase.currency, dueDate, status: 'open', caseStatus: kase.status } };
    });
  }

  agreePlan(caseId: string, instalments: Instalment[], actor: string) {
    return this.onOpenCase(caseId, async (tx, kase, effects) => {
      const { id, touches } = await this.commitments.plan(tx, kase, instalments, actor, effects);
      return { touches, result: { id, status: 'active', currency: kase.currency, instalments, caseStatus: kase.status } };
    });
  }
}
