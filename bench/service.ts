import { performance } from 'node:perf_hooks';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import type { EventResult } from '../src/events/events.service';
import { QueueName } from '../src/jobs/job-names';
import { forEachLimited } from './util';

/** Drops the bench database so the app creates and migrates it from scratch. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const admin = new URL(databaseUrl);
  const name = decodeURIComponent(admin.pathname.slice(1));
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export async function flushRedis(redisUrl: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    await redis.flushdb();
  } finally {
    await redis.quit();
  }
}

/** The bench-late policy's one step, from the invoice's due instant; its due times are what lateness is measured from. */
export const LATE_STEP_OFFSET = 'PT10M';
export const LATE_STEP_OFFSET_MS = 10 * 60_000;

/** A temporary POLICIES_DIR with one default policy: a single email notice as soon as the case opens. */
export async function writeBenchPolicy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dunning-bench-policies-'));
  const yaml = [
    'key: bench',
    'default: true',
    'steps:',
    '  - at: PT0S',
    '    action: notice',
    '    channel: email',
    '    template: reminder-friendly',
    '',
  ].join('\n');
  await writeFile(join(dir, 'bench.yaml'), yaml);
  // Cases for the batch figures: nothing due for two days, so only a dunning run sends anything.
  await writeFile(
    join(dir, 'bench-batch.yaml'),
    'key: bench-batch\nmatch: {segment: [bench-batch, bench-batch-real]}\nsteps:\n  - {at: P2D, action: notice, channel: email, template: reminder-firm}\n',
  );
  // Lateness: one notice at a fixed offset from each invoice's due instant, which the bench spreads.
  await writeFile(
    join(dir, 'bench-late.yaml'),
    `key: bench-late\nmatch: {segment: [bench-late]}\nsteps:\n  - {at: ${LATE_STEP_OFFSET}, action: notice, channel: email, template: reminder-friendly}\n`,
  );
  // The horizon: ten notices a day apart, every one of them beyond SCHEDULE_HORIZON (PT6H).
  const daily = Array.from({ length: 10 }, (_, day) => `  - {at: P${day + 1}D, action: notice, channel: email, template: reminder-friendly}`);
  await writeFile(join(dir, 'bench-horizon.yaml'), ['key: bench-horizon', 'match: {segment: [bench-horizon]}', 'steps:', ...daily, ''].join('\n'));
  return dir;
}

function overdueEvent(run: string, i: number, segment?: string, dueAt?: Date) {
  const now = new Date().toISOString();
  const dueDate = dueAt?.toISOString() ?? now;
  return {
    id: `bench-${run}-${i}`,
    type: 'invoice.overdue',
    occurredAt: now,
    data: {
      invoice: { externalId: `BINV-${run}-${i}`, currency: 'EUR', amountDue: '125.50', dueDate },
      debtor: { externalId: `BD-${run}-${i}`, name: `Debtor ${i}`, email: `debtor${i}@example.test`, locale: 'en', timezone: 'Europe/Berlin' },
      ...(segment ? { segment } : {}),
    },
  };
}

/**
 * Posts `count` events in batches through real HTTP; throws on any non-202 or any result that is not `accepted`.
 * Each invoice falls due now, or at `dueAt(i)`.
 */
export async function postEvents(
  baseUrl: string,
  apiKey: string,
  {
    run,
    count,
    batch,
    inFlight,
    segment,
    dueAt,
  }: { run: string; count: number; batch: number; inFlight: number; segment?: string; dueAt?: (i: number) => Date },
): Promise<void> {
  const batches = Math.ceil(count / batch);
  await forEachLimited(batches, inFlight, async (b) => {
    const from = b * batch;
    const events = Array.from({ length: Math.min(batch, count - from) }, (_, k) => overdueEvent(run, from + k, segment, dueAt?.(from + k)));
    const response = await fetch(`${baseUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    const body = await response.text();
    if (response.status !== 202) throw new Error(`batch ${b}: HTTP ${response.status}: ${body.slice(0, 500)}`);
    const { results } = JSON.parse(body) as { results: EventResult[] };
    if (results.length !== events.length) throw new Error(`batch ${b}: ${results.length} results for ${events.length} events`);
    const bad = results.find((result) => result.status !== 'accepted');
    if (bad) throw new Error(`batch ${b}: event ${bad.id} was ${bad.status}${bad.error ? `: ${bad.error}` : ''}`);
  });
}

/** Where the notices got stuck, for the failure message: step, dispatch and job counts. */
export async function diagnose(databaseUrl: string, redisUrl: string): Promise<string> {
  const parts: string[] = [];
  const client = new Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const count = async (sql: string) =>
      (await client.query<{ status: string; n: string }>(sql)).rows.map((row) => `${row.status}=${row.n}`).join(' ') || 'none';
    parts.push(`steps: ${await count('SELECT status, count(*) AS n FROM scheduled_steps GROUP BY status ORDER BY status')}`);
    parts.push(`dispatches: ${await count('SELECT status, count(*) AS n FROM dispatches GROUP BY status ORDER BY status')}`);
    const errors = await client.query<{ last_error: string; n: string }>(
      'SELECT last_error, count(*) AS n FROM scheduled_steps WHERE last_error IS NOT NULL GROUP BY last_error ORDER BY 2 DESC LIMIT 3',
    );
    for (const row of errors.rows) parts.push(`step error x${row.n}: ${row.last_error}`);
  } catch (error) {
    parts.push(`database: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const queue = new Queue(QueueName.Steps, { connection: { url: redisUrl, maxRetriesPerRequest: null } });
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
    parts.push(
      `steps queue: ${Object.entries(counts)
        .map(([state, n]) => `${state}=${n}`)
        .join(' ')}`,
    );
  } catch (error) {
    parts.push(`redis: ${(error as Error).message}`);
  } finally {
    await queue.close();
  }
  return parts.join('\n  ');
}

/** Starts a dunning-run batch over a segment and waits for it; returns the cases it covered and the cases per second. */
export async function timeBatch(baseUrl: string, apiKey: string, segment: string, dryRun: boolean): Promise<{ total: number; perSecond: number }> {
  const asOf = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
  const started = performance.now();
  const response = await fetch(`${baseUrl}/v1/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': `bench-${segment}-${dryRun}-${Date.now()}` },
    body: JSON.stringify({ kind: 'dunning-run', asOf, filter: { segment }, dryRun }),
  });
  if (response.status !== 202) throw new Error(`batch: HTTP ${response.status}: ${(await response.text()).slice(0, 500)}`);
  const { id, total } = (await response.json()) as { id: string; total: number };
  for (;;) {
    const batch = (await (await fetch(`${baseUrl}/v1/batches/${id}`, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as {
      status: string;
      done: number;
      failed: number;
    };
    if (batch.status === 'completed') break;
    if (batch.status !== 'queued' && batch.status !== 'running') throw new Error(`batch ${id} ended ${batch.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { total, perSecond: total / ((performance.now() - started) / 1000) };
}

/**
 * How the quality sweep kept up with the notices just sent: waits until every notice's touch is
 * scored, then reads the rate of the scoring rounds (scores ÷ first-to-last `scored_at`) and how long
 * after the last notice the last score came.
 */
export async function qaScoringCatchUp(databaseUrl: string, noticesDoneAt: Date): Promise<{ scored: number; perSecond: number; lagMs: number }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const read = async () =>
      (
        await client.query<{ sent: number; scored: number; first: Date | null; last: Date | null }>(
          `SELECT (SELECT count(*)::int FROM touches WHERE kind = 'notice.sent') AS sent,
                  count(*)::int AS scored, min(scored_at) AS first, max(scored_at) AS last
             FROM qa_scores`,
        )
      ).rows[0]!;
    const deadline = performance.now() + 10 * 60_000;
    let done = await read();
    while (done.scored < done.sent) {
      if (performance.now() > deadline) throw new Error(`the quality sweep scored ${done.scored} of ${done.sent} notices within 10 min`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      done = await read();
    }
    const spanMs = done.last!.getTime() - done.first!.getTime();
    return { scored: done.scored, perSecond: done.scored / Math.max(spanMs / 1000, 0.001), lagMs: done.last!.getTime() - noticesDoneAt.getTime() };
  } finally {
    await client.end();
  }
}
