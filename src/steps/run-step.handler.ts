import { Injectable } from '@nestjs/common';
import { DelayedError, UnrecoverableError } from 'bullmq';
import { type JobContext, OnJob } from '../jobs/job-handlers';
import { JobName } from '../jobs/job-names';
import { StepMetrics, type StepRunFacts } from '../metrics/step-metrics';
import type { StepOutcome } from '../domain/statuses';
import { StepRunner } from './step-runner.service';

/** The run-step job: runs the step, counts the run, and sends a step found early back to wait. */
@Injectable()
export class RunStepHandler {
  constructor(
    private readonly runner: StepRunner,
    private readonly metrics: StepMetrics,
  ) {}

  @OnJob(JobName.RunStep)
  async handle({ job, token, finalAttempt }: JobContext<JobName.RunStep>): Promise<StepOutcome> {
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
      await job.moveToDelayed(outcome.notBefore.getTime(), token);
      throw new DelayedError();
    }
    this.metrics.record(facts, { outcome });
    return outcome;
  }
}
