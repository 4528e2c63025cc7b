import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { AuditService } from '../audit/audit.service';
import { Transactions } from '../database/transactions';
import { PlacementRepository } from '../escalations/placement.repository';
import { StepRepository } from '../scheduling/step.repository';
import type { TouchInput, TouchKind } from '../domain/touch-kinds';
import { QueueName } from '../jobs/job-names';
import { JobQueue } from '../jobs/job-queue.service';

/** Every queue on the dashboard and behind /v1/jobs. */
export const JOB_QUEUES = [QueueName.Steps, QueueName.Webhooks, QueueName.Batches] as const;
export type JobQueueName = QueueName;

/** What an operator may do to a job, and the touch it leaves on the job's case. */
export const JOB_ACTION_KINDS = { retry: 'job.retried', promote: 'job.promoted', remove: 'job.removed' } as const satisfies Record<string, TouchKind>;
export type JobAction = keyof typeof JOB_ACTION_KINDS;

/** A job as read before the action: its id and its payload (row ids only). */
export interface JobRef {
  id: string;
  data: unknown;
}

export interface OperatorAction {
  /** The API key's name. */
  actor: string;
  action: JobAction;
  queue: JobQueueName;
  via: 'dashboard' | 'api';
  /** The name the operator clicked, when it differs from `action` (`retry-all`, `clean-all`…). */
  as?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Each queue's job payload names one row; that row's case is the job's case (a batch spans many: none). */
const ROW_OF_JOB = {
  [QueueName.Steps]: { field: 'stepId', rows: 'steps' },
  [QueueName.Webhooks]: { field: 'placementId', rows: 'placements' },
  [QueueName.Batches]: { field: 'batchId', rows: null },
} as const satisfies Record<JobQueueName, { field: string; rows: 'steps' | 'placements' | null }>;

export const isJobQueue = (name: string): name is JobQueueName => (JOB_QUEUES as readonly string[]).includes(name);

/** The row id a payload names, or undefined when the payload is not one of ours. */
function rowIdOf(queue: JobQueueName, data: unknown): string | undefined {
  const value = data && typeof data === 'object' ? (data as Record<string, unknown>)[ROW_OF_JOB[queue].field] : undefined;
  return typeof value === 'string' && UUID.test(value) ? value : undefined;
}

/**
 * Which case a job belongs to, and the touch an operator's action on it leaves there: the one
 * place the dashboard's audit and the operator API share.
 */
@Injectable()
export class JobAudit {
  private readonly logger = new Logger('JobAudit');

  constructor(
    private readonly jobQueue: JobQueue,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly steps: StepRepository,
    private readonly placements: PlacementRepository,
  ) {}

  queue(name: JobQueueName): Queue {
    return this.jobQueue.queue(name);
  }

  allQueues(): Queue[] {
    return this.jobQueue.all();
  }

  /** Job id → case id, for the jobs whose row still exists. */
  async caseIds(queue: JobQueueName, jobs: readonly JobRef[]): Promise<Map<string, string>> {
    const rowOfJob = new Map<string, string>();
    for (const job of jobs) {
      const rowId = rowIdOf(queue, job.data);
      if (rowId) rowOfJob.set(job.id, rowId);
    }
    const rows = ROW_OF_JOB[queue].rows;
    if (rowOfJob.size === 0 || rows === null) return new Map();
    const rowIds = [...new Set(rowOfJob.values())];
    const caseOfRow = await (rows === 'steps' ? this.steps : this.placements).caseIds(rowIds);
    const result = new Map<string, string>();
    for (const [jobId, rowId] of rowOfJob) {
      const caseId = caseOfRow.get(rowId);
      if (caseId) result.set(jobId, caseId);
    }
    return result;
  }

  /**
   * Records an operator's action on jobs: one touch per job on its case (one transaction per case,
   * the case row locked by AuditService.record), and one queue-level line in the log, which is
   * the only record for jobs without a case.
   */
  async record(action: OperatorAction, jobs: readonly JobRef[]): Promise<{ touched: number; withoutCase: string[] }> {
    const cases = await this.caseIds(action.queue, jobs);
    const byCase = new Map<string, TouchInput[]>();
    const withoutCase: string[] = [];
    const field = ROW_OF_JOB[action.queue].field;
    for (const job of jobs) {
      const caseId = cases.get(job.id);
      if (!caseId) {
        withoutCase.push(job.id);
        continue;
      }
      const touch: TouchInput = {
        kind: JOB_ACTION_KINDS[action.action],
        actor: action.actor,
        data: { queue: action.queue, jobId: job.id, [field]: rowIdOf(action.queue, job.data), action: action.as ?? action.action, via: action.via },
      };
      byCase.set(caseId, [...(byCase.get(caseId) ?? []), touch]);
    }
    for (const [caseId, touches] of byCase) {
      await this.transactions.run((tx) => this.audit.record(tx, caseId, touches));
    }
    const touched = jobs.length - withoutCase.length;
    const shown = withoutCase.slice(0, 20).join(', ') + (withoutCase.length > 20 ? ', …' : '');
    this.logger.log(
      `${action.via} action by ${action.actor}: ${action.as ?? action.action} on ${action.queue}, ${jobs.length} job(s), ${touched} touch(es)` +
        (withoutCase.length ? `; without a case: ${shown}` : ''),
    );
    return { touched, withoutCase };
  }

  /** An action on a whole queue (pause, resume): no job, no case, so a line in the log is its record. */
  logQueueAction(actor: string, action: string, queues: readonly string[]): void {
    this.logger.log(`dashboard action by ${actor}: ${action} on ${queues.join(', ')}`);
  }
}
