import { Queue, Worker } from 'bullmq';
import { Client } from 'pg';
import { LATE_STEP_OFFSET, LATE_STEP_OFFSET_MS, postEvents } from './service';
import type { SmtpSink } from './smtp-sink';
import { percentile, round, waitFor } from './util';

const SETTLE_MS = 10 * 60_000;
const ADD_CHUNK = 1000;

export interface Lateness {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** p50, p99 and max of lateness samples in milliseconds (pure). */
export function summarizeLateness(samplesMs: readonly number[]): Lateness {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return { p50Ms: round(percentile(sorted, 50), 1), p99Ms: round(percentile(sorted, 99), 1), maxMs: round(sorted[sorted.length - 1]!, 1) };
}

/** Due instants spread evenly over `windowMs` from `firstDueMs` (epoch ms). */
export const spreadDue = (firstDueMs: number, count: number, windowMs: number) => (i: number) => firstDueMs + (i * windowMs) / count;

/**
 * Step lateness through the whole service: `count` cases posted over HTTP, each with one notice
 * (policy bench-late) whose due instants are spread evenly over `windowMs`, all posted before the
 * first falls due. A step's lateness is when its run claimed the dispatch (dispatches.created_at)
 * minus the instant it was planned for (the invoice's due instant plus the policy's offset).
 */
export async function stepLateness(
  { baseUrl, apiKey, databaseUrl, sink }: { baseUrl: string; apiKey: string; databaseUrl: string; sink: SmtpSink },
  { run, count, windowMs, leadMs }: { run: string; count: number; windowMs: number; leadMs: number },
): Promise<Lateness> {
  const firstDue = Date.now() + leadMs;
  const dueOf = spreadDue(firstDue, count, windowMs);
  sink.reset();
  await postEvents(baseUrl, apiKey, { run, count, batch: 500, inFlight: 4, segment: 'bench-late', dueAt: (i) => new Date(dueOf(i) - LATE_STEP_OFFSET_MS) });
  // A step planned after its due instant would count the bench's own posting as lateness.
  if (Date.now() >= firstDue) throw new Error(`posting ${count} lateness cases took longer than the ${leadMs} ms lead; raise it`);
  await waitFor('lateness notices received by the SMTP sink', () => sink.received >= count, {
    timeoutMs: SETTLE_MS,
    intervalMs: 100,
    progress: () => `${sink.received}/${count}`,
  });
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ late_ms: number }>(
      `SELECT (extract(epoch FROM d.created_at - (i.due_at + $1::interval)) * 1000)::float8 AS late_ms
       FROM dispatches d JOIN cases c ON c.id = d.case_id JOIN invoices i ON i.id = c.invoice_id
       WHERE c.segment = 'bench-late' AND i.external_id LIKE $2`,
      [LATE_STEP_OFFSET, `BINV-${run}-%`],
    );
    if (rows.length !== count) throw new Error(`${rows.length} lateness dispatches for ${count} cases`);
    return summarizeLateness(rows.map((row) => row.late_ms));
  } finally {
    await client.end();
  }
}

/**
 * The timer alone: `count` no-op BullMQ jobs, delayed to instants spread over `windowMs`, on the
 * same Redis and at the same worker concurrency; lateness is when the worker started each minus its due instant.
 */
export async function bareTimerLateness(
  redisUrl: string,
  queueName: string,
  { count, windowMs, leadMs, concurrency }: { count: number; windowMs: number; leadMs: number; concurrency: number },
): Promise<Lateness> {
  const connection = { url: redisUrl, maxRetriesPerRequest: null };
  const queue = new Queue(queueName, { connection });
  const samples: number[] = [];
  const worker = new Worker(
    queueName,
    async (job) => {
      samples.push(Date.now() - (job.data as { due: number }).due);
    },
    { connection, concurrency },
  );
  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    const dueOf = spreadDue(Date.now() + leadMs, count, windowMs);
    for (let from = 0; from < count; from += ADD_CHUNK) {
      const jobs = Array.from({ length: Math.min(ADD_CHUNK, count - from) }, (_, k) => {
        const due = dueOf(from + k);
        return { name: 'late', data: { due }, opts: { delay: Math.max(0, due - Date.now()), removeOnComplete: true } };
      });
      await queue.addBulk(jobs);
    }
    await waitFor('bare delayed jobs run', () => samples.length >= count, { timeoutMs: SETTLE_MS, progress: () => `${samples.length}/${count}` });
    return summarizeLateness(samples);
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}
