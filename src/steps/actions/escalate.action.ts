import { Injectable } from '@nestjs/common';
import { CaseRepository } from '../../cases/case.repository';
import type { Tx } from '../../database/transactions';
import type { PolicyStep } from '../../domain/policy';
import { EscalationService } from '../../escalations/escalation.service';
import type { RunnableStep } from '../../scheduling/step.repository';
import type { Settled, StepAction } from '../step-action';
import { StepSettlement } from '../step-settlement';

/** An escalation step: hands the case to a collector, legal review or the agency. */
@Injectable()
export class EscalateAction implements StepAction<'escalate'> {
  constructor(
    private readonly cases: CaseRepository,
    private readonly escalations: EscalationService,
    private readonly settlement: StepSettlement,
  ) {}

  async act(tx: Tx, step: RunnableStep, definition: Extract<PolicyStep, { action: 'escalate' }>): Promise<Settled> {
    const kase = (await this.cases.lock(tx, step.caseId))!;
    const escalation = await this.escalations.escalate(tx, kase, definition.to, step.requestedBy ?? 'system', {
      stepId: step.id,
      reason: `policy step ${step.index}`,
    });
    const settled = await this.settlement.done(tx, step, 'escalated', escalation.touches);
    const afterCommit = escalation.afterCommit;
    // The agency's webhook is queued once the placement is committed.
    if (!afterCommit) return settled;
    return {
      ...settled,
      afterCommit: async () => {
        await afterCommit();
        return {};
      },
    };
  }
}
