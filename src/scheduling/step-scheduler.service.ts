import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { DueStep, QueueEffects } from '../domain/step';
import { JobName } from '../jobs/job-names';
import { JobQueue } from '../jobs/job-queue.service';

/** The one place that turns step rows into delayed jobs (job id = row id). */
@Injectable()
export class StepScheduler {
  constructor(
    private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** The latest due time that gets a job now; later rows wait for the reconciler. */
  horizon(): Date {
    return new Date(this.clock.now().getTime() + this.config.SCHEDULE_HORIZON);
  }

  /** Whether a step due at `at` may wait in Redis now; a later one waits as its row, for the reconciler. */
  withinHorizon(at: Date): boolean {
    return at <= this.horizon();
  }

  /**
   * Enqueues the steps due within the horizon. Adding an id that already has a job is a no-op.
   * Never throws: the rows are committed, so a Redis outage only delays them until the reconciler.
   */
  enqueue(steps: readonly DueStep[]): Promise<number> {
    const now = this.clock.now().getTime();
    const due = steps.filter((step) => this.withinHorizon(step.dueAt));
    return this.jobs.add(
      JobName.RunStep,
      due.map((step) => ({ id: step.id, data: { stepId: step.id }, delay: Math.max(0, step.dueAt.getTime() - now) })),
      'the reconciler',
    );
  }

  /** Best-effort removal of jobs whose rows were cancelled or paused; the worker re-checks the row anyway. */
  withdraw(stepIds: readonly string[]): Promise<void> {
    return this.jobs.remove(JobName.RunStep, stepIds);
  }

  /** What a committed change asked of the queue: jobs of paused or cancelled steps withdrawn, new ones added. */
  async apply(effects: QueueEffects): Promise<void> {
    await this.withdraw(effects.withdraw);
    await this.enqueue(effects.enqueue);
  }
}
