import { Injectable } from '@nestjs/common';
import { CaseRepository } from '../../cases/case.repository';
import { Contracts } from '../../cases/contracts.service';
import { Clock } from '../../common/clock';
import type { Tx } from '../../database/transactions';
import type { RunnableStep } from '../../scheduling/step.repository';
import type { Settled, StepAction } from '../step-action';
import { StepSettlement } from '../step-settlement';

/** A `terminate-contract` step: ends the case's contract (once), without a letter. */
@Injectable()
export class TerminateContractAction implements StepAction<'terminate-contract'> {
  constructor(
    private readonly clock: Clock,
    private readonly cases: CaseRepository,
    private readonly contracts: Contracts,
    private readonly settlement: StepSettlement,
  ) {}

  async act(tx: Tx, step: RunnableStep): Promise<Settled> {
    const terms = (await this.cases.lockTerms(tx, step.caseId))!;
    const touches = await this.contracts.terminate(tx, terms, step.requestedBy ?? 'system', this.clock.now(), { stepId: step.id });
    return this.settlement.done(tx, step, 'terminated', touches);
  }
}
