import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { CaseRepository } from '../../cases/case.repository';
import { CaseClosing } from '../../cases/case-closing.service';
import { Clock } from '../../common/clock';
import type { Tx } from '../../database/transactions';
import { caseAccount } from '../../domain/account';
import { formatMinorUnits } from '../../domain/money';
import { noQueueEffects } from '../../domain/step';
import { type RunnableStep, StepRepository } from '../../scheduling/step.repository';
import type { Settled, StepAction } from '../step-action';

/** A write-off step: closes the case as written off, with what was left unpaid on the record. */
@Injectable()
export class WriteOffAction implements StepAction<'write-off'> {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly cases: CaseRepository,
    private readonly steps: StepRepository,
    private readonly closing: CaseClosing,
  ) {}

  async act(tx: Tx, step: RunnableStep): Promise<Settled> {
    const terms = (await this.cases.lockTerms(tx, step.caseId))!;
    const actor = step.requestedBy ?? 'system';
    const effects = noQueueEffects();
    await this.steps.finish(tx, step.id, 'done', 'written off', this.clock.now());
    const closing = await this.closing.close(tx, step.caseId, 'written_off', 'case written off', actor, effects);
    const account = caseAccount(terms.money, this.clock.now());
    const money = (minor: bigint) => formatMinorUnits(minor, terms.currency);
    const fees = account.totalDueMinor - account.principalOutstandingMinor;
    await this.audit.record(tx, step.caseId, [
      ...closing,
      {
        kind: 'case.written_off',
        actor,
        data: {
          stepId: step.id,
          balance: money(account.principalOutstandingMinor),
          fees: money(fees),
          totalDue: money(account.totalDueMinor),
          currency: terms.currency,
        },
      },
    ]);
    return { outcome: 'written-off', withdraw: effects.withdraw };
  }
}
