import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import type { Tx } from '../database/transactions';
import type { GateDecision } from '../domain/contact-gate';
import type { StepOutcome } from '../domain/statuses';
import type { TouchInput } from '../domain/touch-kinds';
import { type RunnableStep, StepRepository } from '../scheduling/step.repository';
import type { Settled } from './step-action';

/** The ways a run settles a step in its transaction, each with the touch that says so. */
@Injectable()
export class StepSettlement {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly steps: StepRepository,
  ) {}

  /** Done, with the action's own touches; the case's next step follows. */
  async done(tx: Tx, step: RunnableStep, outcome: StepOutcome, touches: readonly TouchInput[]): Promise<Settled> {
    await this.steps.finish(tx, step.id, 'done', outcome, this.clock.now());
    await this.audit.record(tx, step.caseId, touches);
    return { outcome, next: await this.steps.nextWaiting(tx, step.caseId, step.id) };
  }

  /** Skipped for a reason (nothing to send, nobody to send it to); the case's next step follows. */
  async skip(tx: Tx, step: RunnableStep, reason: string): Promise<Settled> {
    await this.steps.finish(tx, step.id, 'skipped', reason, this.clock.now());
    await this.audit.record(tx, step.caseId, [
      { kind: 'step.skipped', actor: 'system', data: { stepId: step.id, index: step.index, action: step.definition.action, reason } },
    ]);
    return { outcome: 'skipped', next: await this.steps.nextWaiting(tx, step.caseId, step.id) };
  }

  /** The case closed: the step will never run. */
  async cancel(tx: Tx, step: RunnableStep, reason: string): Promise<Settled> {
    await this.steps.finish(tx, step.id, 'cancelled', reason, this.clock.now());
    await this.audit.record(tx, step.caseId, [{ kind: 'step.cancelled', actor: 'system', data: { stepId: step.id, index: step.index, reason } }]);
    return { outcome: 'cancelled' };
  }

  /** The gate said not now: the step waits for the next allowed moment, on the record. */
  defer(tx: Tx, step: RunnableStep, channel: string, decision: Extract<GateDecision, { allowed: false }>): Promise<Settled> {
    return this.postpone(
      tx,
      step,
      decision.notBefore,
      decision.blocks.map((block) => block.reason),
      { channel, blocks: decision.blocks },
    );
  }

  /** A requirement is not met yet (a cure period runs, a delivery is awaited): the step waits, on the record. */
  wait(tx: Tx, step: RunnableStep, until: Date, reason: string): Promise<Settled> {
    return this.postpone(tx, step, until, [reason], {});
  }

  private async postpone(tx: Tx, step: RunnableStep, until: Date, reasons: string[], by: { channel?: string; blocks?: unknown }): Promise<Settled> {
    await this.steps.defer(tx, step.id, until, this.clock.now());
    const { channel, blocks } = by;
    await this.audit.record(tx, step.caseId, [
      {
        kind: 'step.deferred',
        actor: 'system',
        ...(channel ? { channel } : {}),
        data: { stepId: step.id, index: step.index, until: until.toISOString(), reasons, ...(blocks ? { blocks } : {}) },
      },
    ]);
    return { outcome: { notBefore: until } };
  }
}
