import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { QueueName } from '../src/jobs/job-names';
import { postEvents } from './service';

/** Steps the bench-horizon policy plans per case (one a day, all beyond the horizon). */
const STEPS_PER_CASE = 10;
const DRAIN_MS = 5 * 60_000;

export interface HorizonMemory {
  steps: number;
  /** Jobs the steps queue holds afterwards, having been drained before (zero when the horizon holds). */
  jobsAdded: number;
  redisBytesPerStep: number;
}

async function usedMemory(redis: Redis): Promise<number> {
  const match = /^used_memory:(\d+)/m.exec(await redis.info('memory'));
  if (!match) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

async function queuedJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/**
 * Redis memory per step planned beyond SCHEDULE_HORIZON. Cases are opened over HTTP with the
 * bench-horizon policy (case opening plans their steps and enqueues those inside the horizon:
 * none), their steps are copied by SQL (later days, same definitions) up to `steps`, and a
 * reconciler pass runs over them all, as the worker does at boot and every RECONCILE_EVERY. Redis `used_memory` is read before and after,
 * with the steps queue drained of the earlier phases' jobs first.
 */
export async function horizonMemory(
  {
    baseUrl,
    apiKey,
    databaseUrl,
    redisUrl,
    reconcile,
  }: { baseUrl: string; apiKey: string; databaseUrl: string; redisUrl: string; reconcile: () => Promise<number> },
  { run, steps, cases }: { run: string; steps: number; cases: number },
): Promise<HorizonMemory> {
  const copies = steps / (cases * STEPS_PER_CASE) - 1;
  if (!Number.isInteger(copies) || copies < 0) throw new Error(`${steps} steps is not a multiple of ${cases * STEPS_PER_CASE}`);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const queue = new Queue(QueueName.Steps, { connection: { url: redisUrl, maxRetriesPerRequest: null } });
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // The earlier phases' last jobs would leave Redis while this measures.
    const drainBy = performance.now() + DRAIN_MS;
    for (let queued = await queuedJobs(queue); queued > 0; queued = await queuedJobs(queue)) {
      if (performance.now() > drainBy) throw new Error(`the steps queue still holds ${queued} jobs after ${DRAIN_MS / 1000} s`);
      await sleep(200);
    }
    const before = await usedMemory(redis);
    await postEvents(baseUrl, apiKey, { run, count: cases, batch: 1000, inFlight: 4, segment: 'bench-horizon' });
    await client.query(
      `INSERT INTO scheduled_steps (id, case_id, step_index, action, definition, due_at, status, updated_at)
       SELECT gen_random_uuid(), s.case_id, s.step_index + $2 * k, s.action, s.definition, s.due_at + make_interval(days => $2 * k), 'pending', now()
       FROM scheduled_steps s JOIN cases c ON c.id = s.case_id CROSS JOIN generate_series(1, $1::int) AS k
       WHERE c.segment = 'bench-horizon'`,
      [copies, STEPS_PER_CASE],
    );
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM scheduled_steps s JOIN cases c ON c.id = s.case_id WHERE c.segment = 'bench-horizon' AND s.status = 'pending'`,
    );
    if (Number(rows[0]!.n) !== steps) throw new Error(`${rows[0]!.n} bench-horizon steps pending, ${steps} planned`);
    await reconcile();
    const after = await usedMemory(redis);
    return {
      steps,
      jobsAdded: await queuedJobs(queue),
      redisBytesPerStep: (after - before) / steps,
    };
  } finally {
    await client.end();
    await queue.close();
    redis.disconnect();
  }
}
