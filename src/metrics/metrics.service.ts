import { Injectable, Logger } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { redisConnectionErrors } from '../common/connection-errors';
import { connectionErrors } from '../database/guarded-client';
import { outcomesAwaiting } from '../database/outcome-keeper';
import { JobQueue } from '../jobs/job-queue.service';

/**
 * The states `dunning_jobs` reports. BullMQ 6 has no paused list (a paused queue's jobs stay in
 * `wait`), so `paused` is the waiting count while the queue is paused, as BullMQ 5 reported it.
 */
export const JOB_STATES = ['waiting', 'prioritized', 'waiting-children', 'delayed', 'active', 'failed', 'completed', 'paused'] as const;
const COUNTED_STATES = JOB_STATES.filter((state) => state !== 'paused');

/** Job counts by reported state, from BullMQ's counts and the queue's paused flag. */
export function jobStates(counts: Readonly<Record<string, number>>, paused: boolean): Record<(typeof JOB_STATES)[number], number> {
  const states = Object.fromEntries(JOB_STATES.map((state) => [state, counts[state] ?? 0])) as Record<(typeof JOB_STATES)[number], number>;
  if (paused) [states.paused, states.waiting] = [states.waiting, 0];
  return states;
}

/** A scrape must answer even while Redis does not: a gauge that cannot be read in time is left empty. */
const SCRAPE_READ_TIMEOUT_MS = 2000;

export interface Sample<L extends string> {
  labels: Partial<Record<L, string | number>>;
  value: number;
}

/**
 * The app instance's Prometheus registry (its own, not prom-client's global one, so that tests
 * booting several apps in one process do not collide), with Node's process metrics and
 * `dunning_jobs{queue,state}`. Counters live in StepMetrics; gauges read at scrape time are added
 * with `scrapeGauge`, such as the batches' `dunning_batch_items{batch_status,item_status}`.
 */
@Injectable()
export class MetricsService {
  private readonly logger = new Logger(MetricsService.name);
  readonly registry = new Registry();

  constructor(jobs: JobQueue) {
    collectDefaultMetrics({ register: this.registry });
    this.processCount(
      'dunning_database_connection_errors_total',
      'PostgreSQL connections of this process that failed (a restart, a killed backend); the pool reconnects.',
      connectionErrors,
    );
    this.processCount(
      'dunning_redis_connection_errors_total',
      'Redis connection errors seen by this process (queues, workers, rate limiter, readiness); each client reconnects.',
      redisConnectionErrors,
    );
    new Gauge({
      name: 'dunning_outcomes_awaiting_database',
      help: 'Send outcomes this process holds because PostgreSQL does not answer; recorded when it does (OUTCOME_PATIENCE).',
      registers: [this.registry],
      collect() {
        this.set(outcomesAwaiting.count);
      },
    });
    const queues = jobs.all();
    this.scrapeGauge('dunning_jobs', 'Jobs per BullMQ queue and state, read at scrape time.', ['queue', 'state'], async () => {
      const read = await Promise.all(
        queues.map(async (queue) => {
          const [counts, paused] = await Promise.all([queue.getJobCounts(...COUNTED_STATES), queue.isPaused()]);
          return { queue: queue.name, states: jobStates(counts, paused) };
        }),
      );
      return read.flatMap(({ queue, states }) => JOB_STATES.map((state) => ({ labels: { queue, state }, value: states[state] })));
    });
  }

  /** A counter read at scrape time from a count the process keeps outside Nest (a connection's error listener). */
  private processCount(name: string, help: string, source: { count: number }): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(source.count);
      },
    });
  }

  /** The registry in Prometheus text format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * A gauge whose samples `read` returns at each scrape (a database or Redis read, off the hot path).
   * If `read` fails or takes too long the gauge is emptied, so no stale value is reported as current.
   */
  scrapeGauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: () => Promise<Sample<L>[]>): Gauge<L> {
    const logger = this.logger;
    const gauge: Gauge<L> = new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        gauge.reset();
        try {
          for (const sample of await withTimeout(read(), SCRAPE_READ_TIMEOUT_MS)) gauge.set(sample.labels, sample.value);
        } catch (error) {
          logger.warn(`metric ${name} not read: ${(error as Error).message}`);
        }
      },
    });
    return gauge;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
