import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Tx } from '../database/transactions';
import type { ClosingStatus } from '../domain/statuses';
import type { QueueEffects } from '../domain/step';
import type { TouchInput } from '../domain/touch-kinds';
import { StepRepository } from '../scheduling/step.repository';
import { CaseRepository } from './case.repository';
import { CaseHolds } from './case-holds.service';

/** Closes locked cases: paid, cancelled or written off. */
@Injectable()
export class CaseClosing {
  constructor(
    private readonly clock: Clock,
    private readonly cases: CaseRepository,
    private readonly steps: StepRepository,
    private readonly holds: CaseHolds,
  ) {}

  /**
   * Closes a locked case: its steps that have not run are cancelled (their jobs withdrawn after
   * commit) and its holds released. Returns those touches; the caller adds the one that says why.
   */
  async close(tx: Tx, caseId: string, status: ClosingStatus, reason: string, actor: string, effects: QueueEffects): Promise<TouchInput[]> {
    const now = this.clock.now();
    await this.cases.close(tx, caseId, status, now);
    const cancelled = await this.steps.cancelUnrun(tx, caseId, reason, now);
    effects.withdraw.push(...cancelled.map((step) => step.id));
    return [
      ...cancelled.map((step): TouchInput => ({ kind: 'step.cancelled', actor: 'system', data: { stepId: step.id, index: step.step_index, reason } })),
      ...(await this.holds.releaseAll(tx, caseId, reason, actor)),
    ];
  }
}
