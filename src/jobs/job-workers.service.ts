import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { type Job, UnrecoverableError, type Worker } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { watchRedisErrors } from '../common/connection-errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { bindHandlers, type Handler, type JobContext, OnJob, OnSweep } from './job-handlers';
import { type JobData, JobName, QueueName, SweepName } from './job-names';
import { JOBS, QUEUE_CONCURRENCY, stallOptions, SWEEPS } from './job-options';
import { openWorker, queueErrorCounter } from './queue-backend';

const JOB_NAMES = Object.values(JobName);
const SWEEP_NAMES = Object.values(SweepName);

/**
 * The worker role's job machinery: binds every job name and sweep to its one handler (a missing
 * or doubled handler stops the boot, naming it), runs a BullMQ worker per queue, and runs the
 * sweeps on their timers. Handlers return an outcome; they throw for a failure worth a retry and
 * `UnrecoverableError` for one no retry can fix.
 */
@Injectable()
export class JobWorkers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobWorkers.name);
  private readonly workers = new Map<QueueName, Worker>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private handlers = new Map<JobName, Handler>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly logs: PinoLogger,
  ) {}

  onApplicationBootstrap(): void {
    this.handlers = bindHandlers('job', JOB_NAMES, this.find(OnJob));
    const sweeps = bindHandlers('sweep', SWEEP_NAMES, this.find(OnSweep));
    for (const queue of Object.values(QueueName)) {
      const worker = openWorker(queue, (job: Job, token?: string) => this.process(queue, job, token), this.config, {
        ...stallOptions(this.config),
        concurrency: QUEUE_CONCURRENCY[queue](this.config),
      });
      watchRedisErrors(worker, `${queue} worker`, this.logger, queueErrorCounter(this.config));
      this.workers.set(queue, worker);
    }
    for (const [name, sweep] of sweeps) this.every(name, sweep as () => Promise<number>);
  }

  /** Stops the sweeps, then lets running jobs finish before the queues' connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    this.timers.forEach((timer) => clearInterval(timer));
    await Promise.all([...this.workers.values()].map((worker) => worker.close()));
    await Promise.allSettled([...this.running]);
  }

  /** The worker of a queue, once booted (an operator's tool or a test may pause it). */
  worker(queue: QueueName): Worker | undefined {
    return this.workers.get(queue);
  }

  private process(queue: QueueName, job: Job, token: string | undefined): Promise<unknown> {
    const name = job.name as JobName;
    const handler = this.handlers.get(name);
    // A job added by hand under a name or queue the service does not use.
    if (!handler || JOBS[name].queue !== queue) return Promise.reject(new UnrecoverableError(`no handler for job "${job.name}" in queue ${queue}`));
    const data: unknown = job.data;
    const context: JobContext<JobName> = { job: job as Job<JobData[JobName]>, token, finalAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) };
    // Every log line written while the job runs carries the queue, the job and its row ids.
    const ids = data && typeof data === 'object' ? (data as Record<string, unknown>) : {};
    return this.logs.runInContext(() => handler(context as never), { bindings: { queue, jobId: job.id, ...ids, attempt: job.attemptsMade + 1 } });
  }

  private every(name: SweepName, sweep: () => Promise<number>): void {
    let busy = false;
    const run = () => {
      if (busy) return;
      busy = true;
      const promise = sweep()
        .then((count) => count && this.logger.log(`${name}: ${count}`))
        .catch((error: Error) => this.logger.warn(`${name} failed, will try again: ${error.message}`))
        .finally(() => {
          busy = false;
          this.running.delete(promise);
        });
      this.running.add(promise);
    };
    if (SWEEPS[name].atBoot) run();
    this.timers.push(setInterval(run, SWEEPS[name].every(this.config)));
  }

  /** The methods marked with `decorator` on every provider instance. */
  private find<N extends string>(decorator: typeof OnJob | typeof OnSweep): { name: N; owner: string; handler: Handler }[] {
    const found: { name: N; owner: string; handler: Handler }[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object') continue;
      for (const method of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance) as object)) {
        const name = this.discovery.getMetadataByDecorator(decorator, wrapper, method) as N | undefined;
        const handler = (instance as Record<string, Handler>)[method];
        if (name !== undefined && handler) found.push({ name, owner: `${wrapper.name}.${method}`, handler: handler.bind(instance) });
      }
    }
    return found;
  }
}
