import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { RUN_STEP_JOB, RunStepJob, STEPS_QUEUE, stepJobOptions } from './queues';

const ENQUEUE_TIMEOUT_MS = 5000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export interface DueStep {
  id: string;
  dueAt: Date;
}

/** The one place that turns step rows into delayed jobs (job id = row id). */
@Injectable()
export class StepScheduler {
  private readonly logger = new Logger(StepScheduler.name);
  private readonly jobOptions;

  constructor(
    @InjectQueue(STEPS_QUEUE) private readonly queue: Queue<RunStepJob>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.jobOptions = stepJobOptions(config);
  }

  /** The latest due time that gets a job now; later rows wait for the reconciler. */
  horizon(): Date {
    return new Date(this.clock.now().getTime() + this.config.SCHEDULE_HORIZON);
  }

  /**
   * Enqueues the steps due within the horizon. Adding an id that already has a job is a no-op.
   * Never throws: the rows are committed, so a Redis outage only delays them until the reconciler.
   */
  async enqueue(steps: readonly DueStep[]): Promise<number> {
    const now = this.clock.now().getTime();
    const horizon = this.horizon();
    const jobs = steps
      .filter((step) => step.dueAt <= horizon)
      .map((step) => ({
        name: RUN_STEP_JOB,
        data: { stepId: step.id },
        opts: { ...this.jobOptions, jobId: step.id, delay: Math.max(0, step.dueAt.getTime() - now) },
      }));
    if (jobs.length === 0) return 0;
    try {
      // While Redis is down the client queues commands; do not hold the caller (an HTTP request) for that.
      await withTimeout(this.queue.addBulk(jobs), ENQUEUE_TIMEOUT_MS);
      return jobs.length;
    } catch (error) {
      this.logger.warn(`could not enqueue ${jobs.length} step(s), the reconciler will: ${(error as Error).message}`);
      return 0;
    }
  }

  /** Best-effort removal of jobs whose rows were cancelled or paused; the worker re-checks the row anyway. */
  async withdraw(stepIds: readonly string[]): Promise<void> {
    await Promise.all(
      stepIds.map((id) =>
        withTimeout(this.queue.remove(id), ENQUEUE_TIMEOUT_MS).catch((error: Error) => this.logger.debug(`job ${id} not removed: ${error.message}`)),
      ),
    );
  }
}
