import { Injectable } from '@nestjs/common';
import { CaseRepository } from '../../cases/case.repository';
import type { Tx } from '../../database/transactions';
import { FeeAssessor } from '../../cases/fee-assessor.service';
import type { RunnableStep } from '../../scheduling/step.repository';
import type { Settled, StepAction } from '../step-action';
import { StepSettlement } from '../step-settlement';

/** A fee step: assesses the late fee accrued so far (a ledger line and `fee.assessed`). */
@Injectable()
export class FeeAction implements StepAction<'fee'> {
  constructor(
    private readonly cases: CaseRepository,
    private readonly fees: FeeAssessor,
    private readonly settlement: StepSettlement,
  ) {}

  async act(tx: Tx, step: RunnableStep): Promise<Settled> {
    const terms = (await this.cases.lockTerms(tx, step.caseId))!;
    const assessed = await this.fees.assess(tx, terms.id, terms.money, step.id, step.requestedBy ?? 'system');
    if ('skipped' in assessed) return this.settlement.skip(tx, step, assessed.skipped);
    return this.settlement.done(tx, step, 'assessed', assessed.touches);
  }
}
