import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../config/config.schema';
import { JobName, QueueName } from './job-names';
import { JobQueue, type Queues } from './job-queue.service';

/** A queue that records what it was given, or refuses once when `refuse` is set; it emits errors as a BullMQ queue does. */
function fakeQueue(name: string) {
  return Object.assign(new EventEmitter(), {
    name,
    added: [] as unknown[][],
    refuse: false,
    async addBulk(jobs: unknown[]) {
      if (this.refuse) {
        this.refuse = false;
        throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
      }
      this.added.push(jobs);
      return [];
    },
  });
}

describe('JobQueue', () => {
  // A refused add logs a warning by design; keep the test output quiet.
  beforeAll(() => Logger.overrideLogger(false));
  const steps = fakeQueue('steps');
  const webhooks = fakeQueue('webhooks');
  const batches = fakeQueue('batches');
  const queues = new Map([
    [QueueName.Steps, steps],
    [QueueName.Webhooks, webhooks],
    [QueueName.Batches, batches],
  ]) as unknown as Queues;
  const sut = new JobQueue(loadConfig({ STEP_ATTEMPTS: '4' }), queues);
  beforeEach(() => [steps, webhooks, batches].forEach((queue) => (queue.added = [])));

  it("adds each job to its name's queue, the row id as the job id, with retries kept for operators", async () => {
    expect(
      await sut.add(
        JobName.DeliverAgencyPlacement,
        [
          { id: 'p-1', data: { placementId: 'p-1' } },
          { id: 'p-2', data: { placementId: 'p-2' } },
        ],
        'the sweep',
      ),
    ).toBe(2);
    expect(webhooks.added).toEqual([
      [
        expect.objectContaining({
          name: JobName.DeliverAgencyPlacement,
          data: { placementId: 'p-1' },
          opts: expect.objectContaining({ jobId: 'p-1', attempts: 4, removeOnFail: false }),
        }),
        expect.objectContaining({ data: { placementId: 'p-2' }, opts: expect.objectContaining({ jobId: 'p-2' }) }),
      ],
    ]);
    expect(steps.added).toEqual([]);
  });

  it('delays a job by the given milliseconds', async () => {
    await sut.add(JobName.RunStep, [{ id: 's-1', data: { stepId: 's-1' }, delay: 1500 }], 'the reconciler');
    expect(steps.added).toEqual([[expect.objectContaining({ opts: expect.objectContaining({ jobId: 's-1', delay: 1500 }) })]]);
  });

  it('never throws when Redis refuses: the sweep adds the rows later', async () => {
    batches.refuse = true;
    expect(await sut.add(JobName.RunBatch, [{ id: 'b.start.0', data: { batchId: 'b' } }], 'the stalled-batch sweep')).toBe(0);
    expect(batches.added).toEqual([]);
  });

  it('adds nothing for no jobs', async () => {
    expect(await sut.add(JobName.RunStep, [], 'the reconciler')).toBe(0);
    expect(steps.added).toEqual([]);
  });

  it("takes a queue's connection errors, which would otherwise end the process", () => {
    expect(() => steps.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:6379'))).not.toThrow();
  });
});
