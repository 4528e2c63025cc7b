import type { ControllerHandlerReturnType, HookContext } from '@bull-board/api/typings/app';
import { ApiKeyRing } from '../common/auth/api-keys';
import { BoardAudit, READ_ONLY_HOOKS } from './board-audit';
import type { JobAudit, JobRef, OperatorAction } from './job-audit.service';

const operator = { name: 'ops-desk', role: 'operator' as const, secret: 'operator-secret-0123456789' };
const authorization = `Basic ${Buffer.from(`${operator.name}:${operator.secret}`).toString('base64')}`;

/** A queue holding a few jobs by state; `getJob` misses what was removed. */
function fakeQueue(jobs: Record<string, { state: string; data: unknown }>) {
  return {
    name: 'steps',
    getJob: async (id: string) => (jobs[id] ? { id, data: jobs[id].data } : undefined),
    getJobs: async ([state]: string[], start: number, end: number) =>
      Object.entries(jobs)
        .filter(([, job]) => job.state === state)
        .slice(start, end + 1)
        .map(([id, job]) => ({ id, data: job.data })),
  };
}

function setUp(jobs: Record<string, { state: string; data: unknown }> = {}) {
  const queue = fakeQueue(jobs);
  const recorded: { action: OperatorAction; jobs: readonly JobRef[] }[] = [];
  const queueActions: string[] = [];
  const audit = {
    queue: () => queue,
    allQueues: () => [queue, { name: 'webhooks' }],
    record: async (action: OperatorAction, affected: readonly JobRef[]) => {
      recorded.push({ action, jobs: affected });
      return { touched: affected.length, withoutCase: [] };
    },
    logQueueAction: (actor: string, action: string, queues: readonly string[]) => queueActions.push(`${actor} ${action} ${queues.join('+')}`),
  };
  // The fake covers the JobAudit methods BoardAudit calls.
  const sut = new BoardAudit(audit as unknown as JobAudit, new ApiKeyRing([operator]));
  return { sut, jobs, recorded, queueActions };
}

const context = (method: HookContext['method'], route: string, params: Record<string, string> = {}): HookContext => ({
  method,
  route,
  // Only the fields the hooks read.
  request: { params, headers: { authorization }, query: {}, body: {} } as unknown as HookContext['request'],
});

async function act(sut: BoardAudit, hookContext: HookContext, handler: () => ControllerHandlerReturnType) {
  const before = await sut.hooks.before!(hookContext);
  if (before && !before.allow) return { status: before.status };
  return sut.hooks.after!(hookContext, handler());
}

describe('BoardAudit', () => {
  it("records a job retry with the operator's key name once the board succeeded", async () => {
    const { sut, recorded } = setUp({ j1: { state: 'failed', data: { stepId: 's1' } } });
    await act(sut, context('put', '/api/queues/:queueName/:jobId/retry', { queueName: 'steps', jobId: 'j1' }), () => ({ status: 204, body: {} }));
    expect(recorded).toEqual([
      { action: { actor: 'ops-desk', action: 'retry', queue: 'steps', via: 'dashboard', as: 'retry' }, jobs: [{ id: 'j1', data: { stepId: 's1' } }] },
    ]);
  });

  it('records nothing when the board refused the action', async () => {
    const { sut, recorded } = setUp({ j1: { state: 'delayed', data: { stepId: 's1' } } });
    await act(sut, context('put', '/api/queues/:queueName/:jobId/retry', { queueName: 'steps', jobId: 'j1' }), () => ({
      status: 400,
      body: { error: { key: 'ERRORS.JOB_NOT_RETRIABLE' } },
    }));
    expect(recorded).toEqual([]);
  });

  it('reads the jobs of a bulk retry before it runs: one touch per job', async () => {
    const { sut, recorded } = setUp({
      a: { state: 'failed', data: { stepId: 'sa' } },
      b: { state: 'failed', data: { stepId: 'sb' } },
      c: { state: 'delayed', data: { stepId: 'sc' } },
    });
    await act(sut, context('put', '/api/queues/:queueName/retry/:queueStatus', { queueName: 'steps', queueStatus: 'failed' }), () => ({
      status: 200,
      body: { retried: 2 },
    }));
    expect(recorded).toEqual([
      {
        action: expect.objectContaining({ action: 'retry', as: 'retry-all' }),
        jobs: [expect.objectContaining({ id: 'a' }), expect.objectContaining({ id: 'b' })],
      },
    ]);
  });

  it('records a clean-all for the jobs it removed only (clean spares jobs younger than its grace time)', async () => {
    const { sut, jobs, recorded } = setUp({ old: { state: 'failed', data: { stepId: 's1' } }, young: { state: 'failed', data: { stepId: 's2' } } });
    await act(sut, context('put', '/api/queues/:queueName/clean/:queueStatus', { queueName: 'steps', queueStatus: 'failed' }), () => {
      delete jobs.old;
      return { status: 200, body: {} };
    });
    expect(recorded).toEqual([{ action: expect.objectContaining({ action: 'remove', as: 'clean-all' }), jobs: [{ id: 'old', data: { stepId: 's1' } }] }]);
  });

  it('logs queue-level actions, which have no case', async () => {
    const { sut, recorded, queueActions } = setUp();
    await act(sut, context('put', '/api/queues/:queueName/pause', { queueName: 'steps' }), () => ({ status: 200, body: {} }));
    await act(sut, context('put', '/api/queues/resume'), () => ({ status: 200, body: {} }));
    expect(queueActions).toEqual(['ops-desk pause steps', 'ops-desk resume-all steps+webhooks']);
    expect(recorded).toEqual([]);
  });

  it.each([
    ['post', '/api/queues/:queueName/add'],
    ['patch', '/api/queues/:queueName/:jobId/update-data'],
    ['put', '/api/queues/:queueName/empty'],
    ['put', '/api/queues/:queueName/obliterate'],
    ['patch', '/api/queues/:queueName/:jobId/delay'],
  ] as const)('refuses %s %s before it runs', async (method, route) => {
    const { sut } = setUp();
    let ran = false;
    const answer = await act(sut, context(method, route, { queueName: 'steps', jobId: 'j1' }), () => {
      ran = true;
      return { status: 200, body: {} };
    });
    expect(answer).toMatchObject({ status: 403 });
    expect(ran).toBe(false);
  });

  it('answers 500 when the touch cannot be written, so no success goes unrecorded on screen', async () => {
    const { sut } = setUp({ j1: { state: 'failed', data: { stepId: 's1' } } });
    // Stands in for the database failing.
    (sut as unknown as { jobs: { record: () => Promise<never> } }).jobs.record = () => Promise.reject(new Error('connection terminated'));
    const answer = await act(sut, context('put', '/api/queues/:queueName/:jobId/retry', { queueName: 'steps', jobId: 'j1' }), () => ({
      status: 204,
      body: {},
    }));
    expect(answer).toMatchObject({ status: 500 });
  });

  it('redacts contact data from what the boards show', async () => {
    const { sut } = setUp();
    const body = { queues: [{ jobs: [{ failedReason: '550 <ana@example.test> rejected' }] }] };
    expect(await sut.hooks.after!(context('get', '/api/queues'), { status: 200, body })).toEqual({
      status: 200,
      body: { queues: [{ jobs: [{ failedReason: '550 <[address]> rejected' }] }] },
    });
    expect(await READ_ONLY_HOOKS.after!(context('get', '/api/queues'), { status: 200, body })).toEqual({
      status: 200,
      body: { queues: [{ jobs: [{ failedReason: '550 <[address]> rejected' }] }] },
    });
    expect(await READ_ONLY_HOOKS.before!(context('put', '/api/queues/:queueName/pause', { queueName: 'steps' }))).toMatchObject({ allow: false, status: 403 });
  });
});
