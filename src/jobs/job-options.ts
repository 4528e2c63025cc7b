import type { JobsOptions } from 'bullmq';
import type { AppConfig } from '../config/config.schema';
import { JobName, QueueName, SweepName } from './job-names';

type Settings = Pick<AppConfig, 'STEP_ATTEMPTS' | 'STEP_BACKOFF' | 'WEBHOOK_ATTEMPTS' | 'WEBHOOK_BACKOFF'>;

/** Retry and retention, the same for every job: failed jobs stay for operators to see and retry. */
const retried = (config: Settings): JobsOptions => ({
  attempts: config.STEP_ATTEMPTS,
  backoff: { type: 'exponential', delay: config.STEP_BACKOFF },
  removeOnComplete: true,
  removeOnFail: false,
});

/** A webhook endpoint's own schedule: a receiver that is down for an hour still gets its deliveries. */
const webhookRetries = (config: Settings): JobsOptions => ({
  ...retried(config),
  attempts: config.WEBHOOK_ATTEMPTS,
  backoff: { type: 'exponential', delay: config.WEBHOOK_BACKOFF },
});

/** Each job's queue and options. */
export const JOBS = {
  [JobName.RunStep]: { queue: QueueName.Steps, options: retried },
  [JobName.DeliverAgencyPlacement]: { queue: QueueName.Webhooks, options: retried },
  [JobName.DeliverWebhook]: { queue: QueueName.Webhooks, options: webhookRetries },
  [JobName.RunBatch]: { queue: QueueName.Batches, options: retried },
} as const satisfies Record<JobName, { queue: QueueName; options: (config: Settings) => JobsOptions }>;

/** Jobs each worker process runs at once, per queue. */
export const QUEUE_CONCURRENCY = {
  [QueueName.Steps]: (config: Pick<AppConfig, 'WORKER_CONCURRENCY'>) => config.WORKER_CONCURRENCY,
  // A slow endpoint must not hold the other deliveries.
  [QueueName.Webhooks]: () => 4,
  // A batch runs as a few drivers that share its items; one per process is enough.
  [QueueName.Batches]: () => 1,
} as const satisfies Record<QueueName, (config: AppConfig) => number>;

/** How often each sweep runs, and whether it runs once at boot. */
export const SWEEPS = {
  [SweepName.LegalClocks]: { every: (config: AppConfig) => config.LEGAL_CHECK_EVERY, atBoot: true },
  [SweepName.Commitments]: { every: (config: AppConfig) => config.COMMITMENT_CHECK_EVERY, atBoot: true },
  [SweepName.StalledBatches]: { every: (config: AppConfig) => config.RECONCILE_EVERY, atBoot: true },
  [SweepName.AgencyWebhooks]: { every: (config: AppConfig) => config.RECONCILE_EVERY, atBoot: true },
  [SweepName.Webhooks]: { every: (config: AppConfig) => config.WEBHOOK_SWEEP_EVERY, atBoot: true },
  [SweepName.Reconcile]: { every: (config: AppConfig) => config.RECONCILE_EVERY, atBoot: true },
  [SweepName.Seal]: { every: (config: AppConfig) => config.SEAL_EVERY, atBoot: false },
  [SweepName.QaScoring]: { every: (config: AppConfig) => config.QA_SCORING_EVERY, atBoot: true },
  [SweepName.Partitions]: { every: (config: AppConfig) => config.PARTITION_CHECK_EVERY, atBoot: true },
} as const satisfies Record<SweepName, { every: (config: AppConfig) => number; atBoot: boolean }>;

/** How a worker notices a dead one: its jobs go back to the queue once their lock lapses, found by the next check. */
export const stallOptions = (config: Pick<AppConfig, 'STALLED_AFTER'>) => ({
  lockDuration: config.STALLED_AFTER,
  stalledInterval: config.STALLED_AFTER,
  // BullMQ fails a job that stalls more often than this, recording nothing on its step.
  maxStalledCount: 3,
});
