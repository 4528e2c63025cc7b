import { Injectable } from '@nestjs/common';
import { DelayedError, UnrecoverableError } from 'bullmq';
import { type JobContext, OnJob } from '../jobs/job-handlers';
import { JobName } from '../jobs/job-names';
import { StepMetrics, type StepRunFacts } from '../metrics/step-metrics';
import type { StepOutcome } from '../domain/statuses';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import { StepRunner } from './step-runner.service';

/**
 * The outcome of a run that postponed its step beyond the horizon: the job ends, and the row
 * (deferred, or pending at its later time) waits in PostgreSQL until the reconciler enqueues it.
 */
export const WAITS_BEYOND_HORIZON = 'waits-beyond-horizon';

/**
 * The run-step job: runs the step, counts the run, and sends a step found early or postponed back
 * to wait: in Redis within the horizon, as its row beyond it (a weekend, a cure period).
 */
@Injectable()
export class RunStepHandler {
  constructor(
    private readonly runner: StepRunner,
    private readonly metrics: StepMetrics,
    private readonly scheduler: StepScheduler,
  ) {}

  @OnJob(JobName.RunStep)
  async handle({ job, token, finalAttempt }: JobContext<JobName.RunStep>): Promise<StepOutcome | typeof WAITS_BEYOND_HORIZON> {
    const facts: StepRunFacts = {};
    let outcome: Awaited<ReturnType<StepRunner['run']>>;
    try {
      outcome = await this.runner.run(job.data.stepId, finalAttempt, facts);
    } catch (error) {
      this.metrics.record(facts, { failed: true, forGood: finalAttempt || error instanceof UnrecoverableError });
      throw error;
    }
    if (typeof outcome === 'object') {
      this.metrics.record(facts, { deferred: true });
      if (!this.scheduler.withinHorizon(outcome.notBefore)) return WAITS_BEYOND_HORIZON;
      await job.moveToDelayed(outcome.notBefore.getTime(), token);
      throw new DelayedError();
    }
    this.metrics.record(facts, { outcome });
    return outcome;
  }
}
