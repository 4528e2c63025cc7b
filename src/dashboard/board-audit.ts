import { Injectable, Logger } from '@nestjs/common';
import type { BoardHooks, ControllerHandlerReturnType, HookContext } from '@bull-board/api/typings/app';
import type { JobType, Queue } from 'bullmq';
import { ApiKeyRing } from '../common/auth/api-keys';
import { basicKey } from '../common/auth/basic-auth';
import { isJobQueue, JobAction, JobAudit, JobQueueName, JobRef } from './job-audit.service';
import { redactDeep } from './redact';

/** How a job set is found before the action: one job, a state's jobs, or none (a whole queue). */
type Target = 'job' | 'state' | 'delayed' | 'queue' | 'board';

interface BoardAction {
  /** The name recorded as the touch's `action`. */
  name: string;
  target: Target;
  /** The touch each affected job leaves on its case; none for queue-level actions. */
  kind?: JobAction;
}

/**
 * The board's writing routes that operators may use, by bull-board's method and route pattern
 * (node_modules/@bull-board/api/dist/routes.js). Each is audited. The rest (add a job, edit a
 * job's data, delay or priority, empty or obliterate a queue, job schedulers, rate limits,
 * concurrency) is refused: they would put jobs out of step with their rows, or go unaudited.
 */
export const BOARD_ACTIONS: Readonly<Record<string, BoardAction>> = {
  'put /api/queues/:queueName/:jobId/retry': { name: 'retry', target: 'job', kind: 'retry' },
  'put /api/queues/:queueName/:jobId/promote': { name: 'promote', target: 'job', kind: 'promote' },
  'put /api/queues/:queueName/:jobId/clean': { name: 'remove', target: 'job', kind: 'remove' },
  'put /api/queues/:queueName/retry/:queueStatus': { name: 'retry-all', target: 'state', kind: 'retry' },
  'put /api/queues/:queueName/promote': { name: 'promote-all', target: 'delayed', kind: 'promote' },
  'put /api/queues/:queueName/clean/:queueStatus': { name: 'clean-all', target: 'state', kind: 'remove' },
  'put /api/queues/:queueName/pause': { name: 'pause', target: 'queue' },
  'put /api/queues/:queueName/resume': { name: 'resume', target: 'queue' },
  'put /api/queues/pause': { name: 'pause-all', target: 'board' },
  'put /api/queues/resume': { name: 'resume-all', target: 'board' },
};

const SNAPSHOT_PAGE = 1000;

/** Writing routes are refused on the read-only board whatever bull-board's own checks say. */
const readOnly = (context: HookContext) => (context.method === 'get' ? undefined : { allow: false, status: 403 as const, message: 'read-only dashboard' });

/** Answers carry job failure reasons, which may quote a recipient: redacted on every board. */
const redactAnswer = (_context: HookContext, result: ControllerHandlerReturnType): ControllerHandlerReturnType =>
  // Same shape with strings replaced; bull-board's body type is a loose record.
  ({ ...result, body: redactDeep(result.body) as ControllerHandlerReturnType['body'] });

export const READ_ONLY_HOOKS: BoardHooks = { before: readOnly, after: redactAnswer };

const toRef = (job: { id?: string; data: unknown } | undefined): JobRef[] => (job?.id ? [{ id: job.id, data: job.data }] : []);

/**
 * bull-board's handler hooks for the operators' board: refuse unlisted writes, read the jobs an
 * action will touch before it runs (a removed job is gone afterwards), and once the board's
 * handler has succeeded, record one touch per job on its case with the operator's key name.
 * The touch is written before the answer leaves, so a success on screen is a recorded one.
 */
@Injectable()
export class BoardAudit {
  private readonly logger = new Logger('BoardAudit');
  /** The jobs read before an action; bull-board passes the same context object to both hooks. */
  private readonly snapshots = new WeakMap<HookContext, JobRef[]>();

  readonly hooks: BoardHooks = {
    before: (context) => this.before(context),
    after: (context, result) => this.after(context, result),
  };

  constructor(
    private readonly jobs: JobAudit,
    private readonly keys: ApiKeyRing,
  ) {}

  private async before(context: HookContext) {
    if (context.method === 'get') return undefined;
    const action = BOARD_ACTIONS[`${context.method} ${context.route}`];
    if (!action) return { allow: false, status: 403 as const, message: 'this action is disabled on the dunning dashboard' };
    if (!this.actor(context)) return { allow: false, status: 403 as const };
    const queue = this.queueOf(context);
    if (action.kind && queue) this.snapshots.set(context, await this.affected(action.target, queue, context));
    return undefined;
  }

  private async after(context: HookContext, result: ControllerHandlerReturnType): Promise<ControllerHandlerReturnType> {
    if (context.method === 'get') return redactAnswer(context, result);
    const action = BOARD_ACTIONS[`${context.method} ${context.route}`];
    // A refused or failed action changed nothing worth a touch.
    if (!action || (result.status ?? 200) >= 400) return result;
    const actor = this.actor(context)!;
    const queue = this.queueOf(context);
    try {
      if (!action.kind) {
        this.jobs.logQueueAction(actor, action.name, queue ? [queue] : this.jobs.allQueues().map((entry) => entry.name));
      } else if (queue) {
        let affected = this.snapshots.get(context) ?? [];
        // `clean` keeps jobs younger than its grace time: only the ones now gone were removed.
        if (action.name === 'clean-all') affected = await this.gone(queue, affected);
        await this.jobs.record({ actor, action: action.kind, queue, via: 'dashboard', as: action.name }, affected);
      }
      return result;
    } catch (error) {
      this.logger.error(`${action.name} on ${queue ?? 'all queues'} by ${actor} succeeded but could not be recorded: ${(error as Error).message}`);
      return {
        status: 500,
        body: { error: { key: 'ERRORS.INTERNAL_SERVER_ERROR' }, message: `the ${action.name} ran, but its audit record could not be written` },
      };
    }
  }

  /** The key the middleware let in, read again from the request's credentials. */
  private actor(context: HookContext): string | undefined {
    return basicKey(this.keys, context.request.headers.authorization)?.name;
  }

  private queueOf(context: HookContext): JobQueueName | undefined {
    const name: unknown = context.request.params.queueName;
    return typeof name === 'string' && isJobQueue(name) ? name : undefined;
  }

  /** The jobs the action will act on, read before it runs. */
  private async affected(target: Target, name: JobQueueName, context: HookContext): Promise<JobRef[]> {
    const queue = this.jobs.queue(name);
    const params: Record<string, unknown> = context.request.params;
    if (target === 'job') return typeof params.jobId === 'string' ? toRef(await queue.getJob(params.jobId)) : [];
    if (target !== 'delayed' && typeof params.queueStatus !== 'string') return [];
    // bull-board's status names are BullMQ's job types (its own route validation checks them).
    const state = (target === 'delayed' ? 'delayed' : params.queueStatus) as JobType;
    // By id: a job seen on two pages is still one job, one touch.
    const refs = new Map<string, JobRef>();
    for (let start = 0; ; start += SNAPSHOT_PAGE) {
      const page = await queue.getJobs([state], start, start + SNAPSHOT_PAGE - 1, true);
      for (const ref of page.flatMap(toRef)) refs.set(ref.id, ref);
      if (page.length < SNAPSHOT_PAGE) return [...refs.values()];
    }
  }

  private async gone(name: JobQueueName, jobs: readonly JobRef[]): Promise<JobRef[]> {
    const queue: Queue = this.jobs.queue(name);
    const gone: JobRef[] = [];
    for (let start = 0; start < jobs.length; start += 100) {
      const chunk = jobs.slice(start, start + 100);
      const found = await Promise.all(chunk.map((job) => queue.getJob(job.id)));
      chunk.forEach((job, index) => found[index] || gone.push(job));
    }
    return gone;
  }
}
