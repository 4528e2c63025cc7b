/** The BullMQ queues. A queue is a worker pool: its concurrency is set in job-options.ts. */
export enum QueueName {
  Steps = 'steps',
  Webhooks = 'webhooks',
  Batches = 'batches',
}

/** Every job the service enqueues; each has exactly one handler (`@OnJob`), checked at boot. */
export enum JobName {
  RunStep = 'run-step',
  DeliverAgencyPlacement = 'agency-placement',
  DeliverWebhook = 'webhook-delivery',
  RunBatch = 'run-batch',
}

/** A job carries the id of its row only; the row is the truth. */
export interface JobData {
  [JobName.RunStep]: { stepId: string };
  [JobName.DeliverAgencyPlacement]: { placementId: string };
  [JobName.DeliverWebhook]: { deliveryId: string };
  [JobName.RunBatch]: { batchId: string };
}

/** The periodic work of a worker process; each has exactly one handler (`@OnSweep`), checked at boot. */
export enum SweepName {
  LegalClocks = 'legal clocks',
  Commitments = 'broken promises and plans',
  StalledBatches = 'stalled batches',
  AgencyWebhooks = 'agency webhooks',
  Webhooks = 'webhook deliveries',
  Reconcile = 'reconcile',
  Seal = 'seal',
  QaScoring = 'quality scoring',
  Partitions = 'evidence partitions',
}
