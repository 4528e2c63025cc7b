import { jobStates, MetricsService } from './metrics.service';

describe('jobStates', () => {
  it('reports every state, zero when BullMQ has no count for it', () => {
    expect(jobStates({ waiting: 2, failed: 1 }, false)).toEqual({
      waiting: 2,
      prioritized: 0,
      'waiting-children': 0,
      delayed: 0,
      active: 0,
      failed: 1,
      completed: 0,
      paused: 0,
    });
  });

  it('reports a paused queue’s waiting jobs as paused', () => {
    expect(jobStates({ waiting: 5, delayed: 3 }, true)).toMatchObject({ waiting: 0, paused: 5, delayed: 3 });
  });
});

describe('MetricsService', () => {
  const queue = (name: string, counts: () => Promise<Record<string, number>>, paused = false) => ({ name, getJobCounts: counts, isPaused: async () => paused });
  const batches = queue('batches', async () => ({}));
  /** The JobQueue's queues, as MetricsService reads them. */
  const jobs = (...queues: unknown[]) => ({ all: () => [...queues, batches] }) as never;

  it('reads dunning_jobs per queue and state at scrape time, with process metrics', async () => {
    const sut = new MetricsService(
      jobs(
        queue('steps', async () => ({ waiting: 4, failed: 1 })),
        queue('webhooks', async () => ({ delayed: 2 }), true),
      ),
    );
    const text = await sut.scrape();
    expect(text).toContain('dunning_jobs{queue="steps",state="waiting"} 4');
    expect(text).toContain('dunning_jobs{queue="steps",state="failed"} 1');
    expect(text).toContain('dunning_jobs{queue="steps",state="paused"} 0');
    expect(text).toContain('dunning_jobs{queue="webhooks",state="delayed"} 2');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('leaves a gauge empty, not stale, when its read fails', async () => {
    let fail = false;
    const sut = new MetricsService(
      jobs(
        queue('steps', async () => (fail ? Promise.reject(new Error('Redis is down')) : { failed: 3 })),
        queue('webhooks', async () => ({})),
      ),
    );
    expect(await sut.scrape()).toContain('dunning_jobs{queue="steps",state="failed"} 3');
    fail = true;
    const text = await sut.scrape();
    expect(text).toContain('# TYPE dunning_jobs gauge');
    expect(text).not.toContain('dunning_jobs{');
  });

  it('keeps each instance’s series apart', async () => {
    const one = new MetricsService(
      jobs(
        queue('steps', async () => ({ failed: 1 })),
        queue('webhooks', async () => ({})),
      ),
    );
    const two = new MetricsService(
      jobs(
        queue('steps', async () => ({ failed: 2 })),
        queue('webhooks', async () => ({})),
      ),
    );
    expect(await one.scrape()).toContain('dunning_jobs{queue="steps",state="failed"} 1');
    expect(await two.scrape()).toContain('dunning_jobs{queue="steps",state="failed"} 2');
  });
});
