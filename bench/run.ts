import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { INestApplication } from '@nestjs/common';
import { createApp } from '../src/bootstrap';
import { loadConfig } from '../src/config/config.schema';
import { rawQueueJobsPerSecond, rawSmtpPerSecond } from './raw';
import { type BenchResult, writeResults } from './report';
import { diagnose, dropDatabase, flushRedis, postEvents, timeBatch, writeBenchPolicy } from './service';
import { SmtpSink } from './smtp-sink';
import { freePort, round, RssSampler, seconds, waitFor } from './util';

// Overridable so that two checkouts bench side by side without dropping each other's stores.
const DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/dunning_bench';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/15';
const ROOT = resolve(__dirname, '..', '..');
const NOTICE_WAIT_MS = 10 * 60_000;
const POSTS_IN_FLIGHT = 4;
const WORKER_CONCURRENCY = 32;
const SMTP_POOL_SIZE = 5;

function positiveIntEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

async function main(): Promise<void> {
  const events = positiveIntEnv('BENCH_EVENTS', 20_000);
  const batch = positiveIntEnv('BENCH_BATCH', 500);
  const batchCases = positiveIntEnv('BENCH_BATCH_CASES', 100_000);
  const realBatchCases = positiveIntEnv('BENCH_BATCH_REAL_CASES', 10_000);
  const run = randomBytes(4).toString('hex');
  const rss = new RssSampler(200);
  let app: INestApplication | undefined;
  let policiesDir: string | undefined;
  const { sink, port: smtpPort } = await SmtpSink.start();
  try {
    await dropDatabase(DATABASE_URL);
    await flushRedis(REDIS_URL);
    policiesDir = await writeBenchPolicy();
    const apiKey = randomBytes(16).toString('hex');
    const financeKey = randomBytes(16).toString('hex');
    const httpPort = await freePort();
    const config = loadConfig({
      PORT: String(httpPort),
      DATABASE_URL,
      DATABASE_POOL_SIZE: '20',
      REDIS_URL,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      SMTP_POOL_SIZE: String(SMTP_POOL_SIZE),
      API_KEYS: `bench:ingest:${apiKey},benchfin:finance:${financeKey}`,
      POLICIES_DIR: policiesDir,
      TEMPLATES_DIR: join(ROOT, 'templates'),
      // The gate runs in full, but a bench at any hour must not wait for business hours or caps.
      COMPLIANCE_FILE: join(ROOT, 'test/fixtures/compliance-open.yaml'),
      WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
      LOG_LEVEL: 'warn',
    });
    app = await createApp(config);
    await app.listen(httpPort, '127.0.0.1');
    console.log(`bench ${run}: ${events} events in batches of ${batch}, API on :${httpPort}, SMTP sink on :${smtpPort}`);

    // Service: both clocks start at the first post; the worker sends while ingest is still running.
    const startedAt = performance.now();
    await postEvents(`http://127.0.0.1:${httpPort}`, apiKey, { run, count: events, batch, inFlight: POSTS_IN_FLIGHT });
    const postedAt = performance.now();
    console.log(`ingested in ${seconds(startedAt, postedAt).toFixed(1)} s; ${sink.received} notices already received`);
    try {
      await waitFor('notices received by the SMTP sink', () => sink.received >= events, {
        timeoutMs: NOTICE_WAIT_MS,
        intervalMs: 100,
        progress: () => `${sink.received}/${events}`,
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n  ${await diagnose(DATABASE_URL, REDIS_URL)}`, { cause: error });
    }
    if (sink.received > events) console.warn(`the sink received ${sink.received} notices for ${events} events (duplicates?)`);
    const eventsPerSecond = events / seconds(startedAt, postedAt);
    const noticesPerSecond = events / seconds(startedAt, sink.lastAt);
    const noticeBytes = sink.averageBytes();
    console.log(
      `notices done in ${seconds(startedAt, sink.lastAt).toFixed(1)} s (${Math.round(noticeBytes)} bytes each on average); ` +
        `peak RSS so far ${Math.round(rss.peakMb())} MB`,
    );
    // Batches: a dry run over many cases, then a real run (each case's next step advanced to now).
    const baseUrl = `http://127.0.0.1:${httpPort}`;
    await postEvents(baseUrl, apiKey, { run: `${run}d`, count: batchCases, batch: 1000, inFlight: POSTS_IN_FLIGHT, segment: 'bench-batch' });
    await postEvents(baseUrl, apiKey, { run: `${run}r`, count: realBatchCases, batch: 1000, inFlight: POSTS_IN_FLIGHT, segment: 'bench-batch-real' });
    const dryRun = await timeBatch(baseUrl, financeKey, 'bench-batch', true);
    console.log(`batch dry run: ${dryRun.total} cases at ${dryRun.perSecond.toFixed(0)}/s`);
    const realRun = await timeBatch(baseUrl, financeKey, 'bench-batch-real', false);
    console.log(`batch real run: ${realRun.total} cases at ${realRun.perSecond.toFixed(0)}/s`);
    await app.close();
    app = undefined;

    // Bare parts, one after the other, on the same Redis database and SMTP sink.
    const rawQueue = await rawQueueJobsPerSecond(REDIS_URL, `bench-noop-${run}`, events, WORKER_CONCURRENCY);
    const rawSmtp = await rawSmtpPerSecond(sink, smtpPort, Math.min(events, 20_000), {
      targetBytes: noticeBytes,
      inFlight: WORKER_CONCURRENCY,
      maxConnections: SMTP_POOL_SIZE,
    });
    console.log(`bare SMTP messages: ${Math.round(rawSmtp.averageBytes)} bytes each on average`);

    const result: BenchResult = {
      at: new Date().toISOString(),
      events,
      batch,
      eventsPerSecond: round(eventsPerSecond, 1),
      noticesPerSecond: round(noticesPerSecond, 1),
      rawQueueJobsPerSecond: round(rawQueue, 1),
      rawSmtpPerSecond: round(rawSmtp.perSecond, 1),
      ratio: round(noticesPerSecond / Math.min(rawQueue, rawSmtp.perSecond), 3),
      batchDryRunCases: dryRun.total,
      batchDryRunCasesPerSecond: round(dryRun.perSecond, 1),
      batchRealRunCases: realRun.total,
      batchRealRunCasesPerSecond: round(realRun.perSecond, 1),
      peakRssMb: round(rss.stop() / 2 ** 20, 1),
      node: process.version,
      cpus: availableParallelism(),
    };
    console.log(`\n${await writeResults(join(ROOT, 'bench', 'results'), result)}\n`);
  } finally {
    rss.stop();
    // On failure the app may still hold workers and pools; close it before the sink it sends to.
    await app?.close().catch((error: unknown) => console.error('closing the app:', error));
    await sink.close();
    if (policiesDir) await rm(policiesDir, { recursive: true, force: true });
  }
}

main()
  .then(
    () => {
      process.exitCode = 0;
    },
    (error: unknown) => {
      console.error('bench failed:', error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  )
  .finally(() => {
    // Everything is closed by now; if a handle still leaks, say so instead of hanging.
    setTimeout(() => {
      console.error('bench: handles still open 10 s after the end; exiting');
      process.exit(process.exitCode ?? 1);
    }, 10_000).unref();
  });
