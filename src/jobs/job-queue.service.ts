import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { watchRedisErrors } from '../common/connection-errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { type JobData, JobName, QueueName } from './job-names';
import { JOBS } from './job-options';
import { queueErrorCounter } from './queue-backend';

/** Injection token for each queue's producer, opened on the configured backend (queue-backend.ts). */
export const QUEUES = Symbol('QUEUES');
export type Queues = ReadonlyMap<QueueName, Queue>;

/** One job to add: its id is the row's (adding an id that still has a job is a no-op). */
export interface NewJob<N extends JobName> {
  id: string;
  data: JobData[N];
  /** Milliseconds from now; due at once when absent. */
  delay?: number;
}

/**
 * The one way jobs are added and withdrawn. The rows are committed before their jobs are added,
 * so a refused add (Redis away) loses nothing: the sweep named in `recovery` adds it later.
 */
@Injectable()
export class JobQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(JobQueue.name);
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(QUEUES) private readonly queues: Queues,
  ) {
    for (const [name, queue] of this.queues) watchRedisErrors(queue, `${name} queue`, this.logger, queueErrorCounter(config));
  }

  /** After the workers have stopped (their shutdown comes first). */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
  }

  /** Adds the jobs, returning how many were added; never throws (see the class comment). */
  async add<N extends JobName>(name: N, jobs: readonly NewJob<N>[], recovery: string): Promise<number> {
    if (jobs.length === 0) return 0;
    const { queue, options } = JOBS[name];
    const defaults = options(this.config);
    try {
      await this.queue(queue).addBulk(jobs.map((job) => ({ name, data: job.data, opts: { ...defaults, jobId: job.id, delay: job.delay ?? 0 } })));
      return jobs.length;
    } catch (error) {
      this.logger.warn(`could not add ${jobs.length} ${name} job(s), ${recovery} will: ${(error as Error).message}`);
      return 0;
    }
  }

  /** Best-effort removal of jobs whose rows no longer want them; the handler re-checks the row anyway. */
  async remove(name: JobName, ids: readonly string[]): Promise<void> {
    const queue = this.queue(JOBS[name].queue);
    await Promise.all(ids.map((id) => queue.remove(id).catch((error: Error) => this.logger.debug(`job ${id} not removed: ${error.message}`))));
  }

  /** Jobs ready to run and not yet taken by a worker: the queue's backlog. */
  async waiting(name: QueueName): Promise<number> {
    const counts = await this.queue(name).getJobCounts('waiting', 'prioritized');
    return (counts.waiting ?? 0) + (counts.prioritized ?? 0);
  }

  queue(name: QueueName): Queue {
    return this.queues.get(name)!;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }
}
