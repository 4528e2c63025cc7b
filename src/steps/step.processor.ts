import { Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, Inject, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { StepMetrics, type StepRunFacts } from '../metrics/step-metrics';
import { RUN_STEP_JOB, RunStepJob, STEPS_QUEUE } from '../scheduling/queues';
import { StepOutcome, StepRunner } from './step-runner.service';

/** The step queue's only handler; it returns an outcome and throws only for failures worth a retry. */
@Processor(STEPS_QUEUE)
export class StepProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runner: StepRunner,
    private readonly metrics: StepMetrics,
    private readonly logs: PinoLogger,
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

  /** Every log line written while the job runs (runner, mailer, …) carries its job and step ids. */
  process(job: Job<RunStepJob>, token?: string): Promise<StepOutcome> {
    return this.logs.runInContext(() => this.runJob(job, token), {
      bindings: { queue: STEPS_QUEUE, jobId: job.id, stepId: job.data?.stepId, attempt: job.attemptsMade + 1 },
    });
  }

  private async runJob(job: Job<RunStepJob>, token?: string): Promise<StepOutcome> {
    if (job.name !== RUN_STEP_JOB) throw new UnrecoverableError(`no handler for job "${job.name}"`);
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
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
