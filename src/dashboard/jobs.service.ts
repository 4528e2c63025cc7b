import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { CURSOR, decodeCursor, encodeCursor } from '../common/cursor';
import { DomainError, NotFound } from '../common/errors';
import { JobAudit, JobQueueName } from './job-audit.service';
import { redactContacts } from './redact';

export const JOB_STATES = ['failed', 'delayed', 'waiting', 'active', 'completed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface JobItem {
  id: string;
  queue: JobQueueName;
  name: string;
  /** Row ids only (a step's or a placement's). */
  data: unknown;
  state: string;
  attemptsMade: number;
  failedReason: string | null;
  timestamp: string;
  caseId?: string;
}

/** The operator API over the queues: list jobs by state, retry a failed one (audited like the board). */
@Injectable()
export class OperatorJobs {
  constructor(private readonly jobs: JobAudit) {}

  /** Newest first as BullMQ keeps them; the cursor is an offset, so jobs moving meanwhile may shift a page. */
  async list(query: { queue: JobQueueName; state: JobState; limit: number; cursor?: string }): Promise<{ items: JobItem[]; nextCursor: string | null }> {
    const [offset] = query.cursor ? decodeCursor(query.cursor, CURSOR.position) : [0];
    if (!Number.isInteger(offset) || offset < 0)
      throw new DomainError('validation', 'query.cursor: is not a cursor returned by this listing', [
        { field: 'query.cursor', reason: 'is not a cursor returned by this listing' },
      ]);
    const page = (await this.jobs.queue(query.queue).getJobs([query.state], offset, offset + query.limit - 1)).filter((job): job is Job => Boolean(job?.id));
    const items = await this.describe(query.queue, page, () => query.state);
    return { items, nextCursor: page.length === query.limit ? encodeCursor([offset + query.limit]) : null };
  }

  /** Retries a failed job and records `job.retried` on its case; 404 unknown, 409 not failed. */
  async retry(queueName: JobQueueName, id: string, actor: string): Promise<JobItem> {
    const queue = this.jobs.queue(queueName);
    const job = await queue.getJob(id);
    if (!job?.id) throw new NotFound(`job in queue ${queueName}`, id);
    const state = await job.getState();
    if (state !== 'failed') throw new DomainError('conflict', `job ${id} is ${state}, not failed: only a failed job can be retried`);
    try {
      await job.retry('failed');
    } catch (error) {
      // Another operator (or the board) retried it between our read and our retry.
      const now = await job.getState();
      if (now !== 'failed') throw new DomainError('conflict', `job ${id} is ${now}, not failed: only a failed job can be retried`);
      throw error;
    }
    await this.jobs.record({ actor, action: 'retry', queue: queueName, via: 'api' }, [{ id: job.id, data: job.data }]);
    const after = await job.getState();
    const [item] = await this.describe(queueName, [job], () => after);
    return item!;
  }

  private async describe(queue: JobQueueName, jobs: readonly Job[], stateOf: (job: Job) => string): Promise<JobItem[]> {
    const cases = await this.jobs.caseIds(
      queue,
      jobs.map((job) => ({ id: job.id!, data: job.data as unknown })),
    );
    return jobs.map((job) => {
      const caseId = cases.get(job.id!);
      return {
        id: job.id!,
        queue,
        name: job.name,
        data: job.data as unknown,
        state: stateOf(job),
        attemptsMade: job.attemptsMade,
        // A failure reason may quote the recipient (an SMTP reply): addresses are redacted.
        failedReason: job.failedReason ? redactContacts(job.failedReason) : null,
        timestamp: new Date(job.timestamp).toISOString(),
        ...(caseId ? { caseId } : {}),
      };
    });
  }
}
