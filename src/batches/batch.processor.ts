import { Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { BatchRunner } from './batch-runner.service';
import { BATCHES_QUEUE, RUN_BATCH_JOB } from './batches.service';

/** The batches queue's handler (worker role): one job is one driver working a batch's items. */
@Processor(BATCHES_QUEUE)
export class BatchProcessor extends WorkerHost implements BeforeApplicationShutdown {
  constructor(private readonly runner: BatchRunner) {
    super();
  }

  /** A driver stops between chunks; its chunk in flight commits first. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }

  async process(job: Job<{ batchId: string }>): Promise<{ processed: number }> {
    if (job.name !== RUN_BATCH_JOB) throw new UnrecoverableError(`no handler for job "${job.name}"`);
    return { processed: await this.runner.run(job.data.batchId) };
  }
}
