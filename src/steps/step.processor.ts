import { Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { RUN_STEP_JOB, RunStepJob, STEPS_QUEUE } from '../scheduling/queues';
import { StepOutcome, StepRunner } from './step-runner.service';

/** The step queue's only handler; it returns an outcome and throws only for failures worth a retry. */
@Processor(STEPS_QUEUE)
export class StepProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runner: StepRunner,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.WORKER_CONCURRENCY;
  }

  /** Stop taking jobs and let running ones finish before connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }

  async process(job: Job<RunStepJob>, token?: string): Promise<StepOutcome> {
    if (job.name !== RUN_STEP_JOB) throw new UnrecoverableError(`no handler for job "${job.name}"`);
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const outcome = await this.runner.run(job.data.stepId, finalAttempt);
    if (typeof outcome === 'object') {
      await job.moveToDelayed(outcome.notBefore.getTime(), token);
      throw new DelayedError();
    }
    return outcome;
  }
}
