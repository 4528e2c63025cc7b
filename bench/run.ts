import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { INestApplication } from '@nestjs/common';
import { createApp } from '../src/bootstrap';
import { loadConfig } from '../src/config/config.schema';
import { Reconciler } from '../src/scheduling/reconciler.service';
import { horizonMemory } from './horizon-memory';
import { bareTimerLateness } from './lateness';
import { imageNodeOptions, splitRoles } from './process-memory';
import { rawQueueJobsPerSecond, rawSmtpPerSecond } from './raw';
import { plannedSteps, type SweepAtSize } from './planned-steps';
import { type BenchResult, type CoreFigures, type PlannedStepsFigures, readResults, type ScaleOutFigures, writeResults } from './report';
import { scaleOut, type ScaleOutRun } from './scale-out';
import { diagnose, dropDatabase, flushRedis, postEvents, qaScoringCatchUp, timeBatch, writeBenchPolicy } from './service';
import { type CpuByPart, CpuMeter } from './cpu';
import { SmtpSink } from './smtp-sink';
import { freePort, perNotice, round, RssSampler, seconds, treeRss, waitFor } from './util';

// Overridable so that two checkouts bench side by side without dropping each other's stores.
const DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/dunning_bench';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/15';
const ROOT = resolve(__dirname, '..', '..');
const NOTICE_WAIT_MS = 10 * 60_000;
const POSTS_IN_FLIGHT = 4;
const WORKER_CONCURRENCY = 32;
const SMTP_POOL_SIZE = 5;
const LATE_WINDOW_MS = 10_000;

/** The split-roles phase's own database beside the bench's, so its processes start from nothing. */
function rolesDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `${url.pathname}_roles`;
  return url.toString();
}

/** The service as operators run it, compiled with the bench from the same sources. */
const MAIN = resolve(__dirname, '..', 'src', 'main.js');
const READY_WAIT_MS = 60_000;

/** SIGTERM, then its exit: it finishes its running jobs and stops its worker processes first. */
async function stopService(service: { child: ChildProcess; exited: Promise<number | null> }): Promise<void> {
  service.child.kill('SIGTERM');
  const code = await service.exited;
  if (code !== 0) console.warn(`the service exited with ${code}`);
}

function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer of at least ${min}, got "${raw}"`);
  return value;
}

/** Starts `node main.js` with the environment and waits until it and its worker processes are ready; it exits on SIGTERM. */
async function startService(env: Record<string, string>, ports: number[]): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ready = (port: number) =>
    fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
  const deadline = performance.now() + READY_WAIT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the service exited during its boot (${child.exitCode ?? child.signalCode})`);
    if ((await Promise.all(ports.map(ready))).every(Boolean)) return { child, exited };
    if (performance.now() > deadline) throw new Error(`the service was not ready within ${READY_WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Events posted over HTTP while the worker sends; both clocks start at the first post. */
async function noticePhase(
  sink: SmtpSink,
  target: { baseUrl: string; apiKey: string; run: string; events: number; batch: number; databaseUrl: string; redisUrl: string; servicePid: number },
): Promise<{ eventsPerSecond: number; noticesPerSecond: number; noticeBytes: number; cpu: CpuByPart }> {
  const { baseUrl, apiKey, run, events, batch } = target;
  const before = sink.received;
  const cpu = await CpuMeter.start([target.servicePid], target.databaseUrl, target.redisUrl);
  const startedAt = performance.now();
  await postEvents(baseUrl, apiKey, { run, count: events, batch, inFlight: POSTS_IN_FLIGHT });
  const postedAt = performance.now();
  console.log(`ingested in ${seconds(startedAt, postedAt).toFixed(1)} s; ${sink.received - before} notices already received`);
  try {
    await waitFor('notices received by the SMTP sink', () => sink.received - before >= events, {
      timeoutMs: NOTICE_WAIT_MS,
      intervalMs: 100,
      progress: () => `${sink.received - before}/${events}`,
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n  ${await diagnose(target.databaseUrl, target.redisUrl)}`, { cause: error });
  }
  const spent = await cpu.stop();
  if (sink.received - before > events) console.warn(`the sink received ${sink.received - before} notices for ${events} events (duplicates?)`);
  const noticesPerSecond = events / seconds(startedAt, sink.lastAt);
  console.log(`notices done in ${seconds(startedAt, sink.lastAt).toFixed(1)} s (${Math.round(sink.averageBytes())} bytes each on average)`);
  return { eventsPerSecond: events / seconds(startedAt, postedAt), noticesPerSecond, noticeBytes: sink.averageBytes(), cpu: spent };
}

/** The groups of phases BENCH_PHASES picks from (comma-separated; all by default). */
const PHASES = ['core', 'planned-steps', 'scale-out'] as const;
type Phase = (typeof PHASES)[number];
const isPhase = (name: string): name is Phase => (PHASES as readonly string[]).includes(name);

function phasesToRun(): Set<Phase> {
  const names = (process.env.BENCH_PHASES ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) return new Set(PHASES);
  const unknown = names.filter((name) => !isPhase(name));
  if (unknown.length) throw new Error(`BENCH_PHASES: unknown ${unknown.join(', ')} (known: ${PHASES.join(', ')})`);
  return new Set(names.filter(isPhase));
}

/** What every group of phases shares: the sink, the keys, and the service's settings. */
interface BenchContext {
  run: string;
  events: number;
  batch: number;
  sink: SmtpSink;
  smtpPort: number;
  apiKey: string;
  financeKey: string;
  httpPort: number;
  workerProcesses: number;
  layout: string;
  env: Record<string, string>;
}

/** Ingest, end to end, batches, the horizon, PostgreSQL queues, the bare parts and the split roles. */
async function corePhases(context: BenchContext, loadAtStart: number): Promise<CoreFigures> {
  const { run, events, batch, sink, smtpPort, apiKey, financeKey, httpPort, workerProcesses, layout, env } = context;
  const batchCases = intEnv('BENCH_BATCH_CASES', 100_000);
  const realBatchCases = intEnv('BENCH_BATCH_REAL_CASES', 10_000);
  const lateSteps = intEnv('BENCH_LATE_STEPS', 10_000);
  const horizonSteps = intEnv('BENCH_HORIZON_STEPS', 1_000_000);
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  let app: INestApplication | undefined;
  const rss = new RssSampler(200, () => (service ? treeRss(service.child.pid!) : 0));
  try {
    await dropDatabase(DATABASE_URL);
    await flushRedis(REDIS_URL);
    const workerPorts = Array.from({ length: workerProcesses }, (_, n) => httpPort + n + 1);
    service = await startService(env, [httpPort, ...workerPorts]);
    console.log(`bench ${run}: ${events} events in batches of ${batch}, ${layout}; API on :${httpPort}, SMTP sink on :${smtpPort}`);

    const baseUrl = `http://127.0.0.1:${httpPort}`;
    const { eventsPerSecond, noticesPerSecond, noticeBytes, cpu } = await noticePhase(sink, {
      baseUrl,
      apiKey,
      run,
      events,
      batch,
      databaseUrl: DATABASE_URL,
      redisUrl: REDIS_URL,
      servicePid: service.child.pid!,
    });
    console.log(`peak RSS so far ${Math.round(rss.peakMb())} MB`);
    // Scoring runs in the worker processes beside the sends (QA_SCORING on, its default round).
    const scoring = await qaScoringCatchUp(DATABASE_URL, new Date(Date.now() - (performance.now() - sink.lastAt)));
    console.log(
      `quality sweep: ${scoring.scored} notices scored at ${scoring.perSecond.toFixed(0)}/s, the last ${(scoring.lagMs / 1000).toFixed(1)} s after the last notice`,
    );
    // Batches: a dry run over many cases, then a real run (each case's next step advanced to now).
    await postEvents(baseUrl, apiKey, { run: `${run}d`, count: batchCases, batch: 1000, inFlight: POSTS_IN_FLIGHT, segment: 'bench-batch' });
    await postEvents(baseUrl, apiKey, { run: `${run}r`, count: realBatchCases, batch: 1000, inFlight: POSTS_IN_FLIGHT, segment: 'bench-batch-real' });
    const dryRun = await timeBatch(baseUrl, financeKey, 'bench-batch', true);
    console.log(`batch dry run: ${dryRun.total} cases at ${dryRun.perSecond.toFixed(0)}/s`);
    const realRun = await timeBatch(baseUrl, financeKey, 'bench-batch-real', false);
    console.log(`batch real run: ${realRun.total} cases at ${realRun.perSecond.toFixed(0)}/s`);
    // The service's own load (ingest, end to end, batches), without the horizon phase's bulk planning.
    const peakRss = rss.stop();
    await stopService(service);
    service = undefined;

    // The horizon in an application inside the bench, whose reconciler pass it runs itself.
    app = await createApp(loadConfig({ ...env, WORKER_PROCESSES: '0' }));
    await app.listen(httpPort, '127.0.0.1');
    const reconciler = app.get(Reconciler);
    const horizon = await horizonMemory(
      { baseUrl, apiKey, databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, reconcile: () => reconciler.reconcile() },
      { run: `${run}h`, steps: horizonSteps, cases: horizonSteps / 100 },
    );
    console.log(`horizon: ${horizon.steps} steps, ${horizon.jobsAdded} jobs, ${horizon.redisBytesPerStep.toFixed(2)} Redis bytes per step`);
    await app.close();
    app = undefined;

    // The same notices with every queue on PostgreSQL (no Redis), in the same layout, on a database of their own.
    const postgresEnv = { ...env, DATABASE_URL: `${DATABASE_URL}_pgq`, QUEUE_BACKEND: 'postgres' };
    await dropDatabase(postgresEnv.DATABASE_URL);
    service = await startService(postgresEnv, [httpPort, ...workerPorts]);
    const onPostgres = await noticePhase(sink, {
      baseUrl,
      apiKey,
      run: `${run}q`,
      events,
      batch,
      databaseUrl: postgresEnv.DATABASE_URL,
      redisUrl: REDIS_URL,
      servicePid: service.child.pid!,
    });
    await stopService(service);
    service = undefined;

    // Bare parts, one after the other, on the same stores and SMTP sink.
    const rawQueue = await rawQueueJobsPerSecond(loadConfig(env), `bench-noop-${run}`, events, WORKER_CONCURRENCY);
    const rawPostgresQueue = await rawQueueJobsPerSecond(loadConfig(postgresEnv), `bench-noop-${run}`, events, WORKER_CONCURRENCY);
    const bareSends = Math.min(events, 20_000);
    const cpuBeforeSmtp = process.cpuUsage();
    const rawSmtp = await rawSmtpPerSecond(sink, smtpPort, bareSends, {
      targetBytes: noticeBytes,
      inFlight: WORKER_CONCURRENCY,
      maxConnections: SMTP_POOL_SIZE,
    });
    const bareSmtpCpu = process.cpuUsage(cpuBeforeSmtp);
    console.log(`bare SMTP messages: ${Math.round(rawSmtp.averageBytes)} bytes each on average`);
    const bareTimer = await bareTimerLateness(REDIS_URL, `bench-late-${run}`, {
      count: lateSteps,
      windowMs: LATE_WINDOW_MS,
      leadMs: 5000,
      concurrency: WORKER_CONCURRENCY,
    });

    const roles = await splitRoles(
      { ...env, WORKER_PROCESSES: '0' },
      { databaseUrl: rolesDatabaseUrl(DATABASE_URL), sink, apiKey, run: `${run}s`, events, batch, lateSteps, lateWindowMs: LATE_WINDOW_MS },
    );

    return {
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
      postgresNoticesPerSecond: round(onPostgres.noticesPerSecond, 1),
      rawPostgresQueueJobsPerSecond: round(rawPostgresQueue, 1),
      postgresRatio: round(onPostgres.noticesPerSecond / Math.min(rawPostgresQueue, rawSmtp.perSecond), 3),
      cpuPerNoticeServiceMs: perNotice(cpu.service, events),
      cpuPerNoticePostgresMs: perNotice(cpu.postgres, events),
      cpuPerNoticeRedisMs: perNotice(cpu.redis, events),
      cpuPerNoticeBenchMs: perNotice(cpu.bench, events),
      cpuPerNoticeMs: perNotice(cpu.service + cpu.postgres + cpu.redis + cpu.bench, events),
      bareSmtpCpuPerSendMs: perNotice((bareSmtpCpu.user + bareSmtpCpu.system) / 1e6, bareSends),
      postgresCpuPerNoticeMs: perNotice(onPostgres.cpu.service + onPostgres.cpu.postgres + onPostgres.cpu.bench, events),
      qaScoredTouches: scoring.scored,
      qaScoringPerSecond: round(scoring.perSecond, 1),
      qaScoringLagMs: Math.round(scoring.lagMs),
      peakRssMb: round(peakRss / 2 ** 20, 1),
      layout,
      lateSteps,
      stepLatenessP50Ms: roles.lateness.p50Ms,
      stepLatenessP99Ms: roles.lateness.p99Ms,
      stepLatenessMaxMs: roles.lateness.maxMs,
      bareTimerLatenessP99Ms: bareTimer.p99Ms,
      horizonSteps: horizon.steps,
      horizonJobsAdded: horizon.jobsAdded,
      redisBytesPerHorizonStep: round(horizon.redisBytesPerStep, 2),
      apiBootRssMb: roles.apiBootRssMb,
      apiPeakRssMb: roles.apiPeakRssMb,
      workerBootRssMb: roles.workerBootRssMb,
      workerPeakRssMb: roles.workerPeakRssMb,
      splitNoticesPerSecond: roles.noticesPerSecond,
      loadAverageAtStart: round(loadAtStart, 2),
      loadAverageAtEnd: round(loadavg()[0]!, 2),
      node: process.version,
      cpus: availableParallelism(),
    };
  } finally {
    rss.stop();
    // On failure the service or the app may still run workers; stop them before the sink they send to.
    if (service) await stopService(service);
    await app?.close().catch((error: unknown) => console.error('closing the app:', error));
  }
}

/** The reconciler's sweep at two sizes of pending rows, in an app of the bench process on a database of its own. */
async function plannedStepsPhase(context: BenchContext): Promise<PlannedStepsFigures> {
  const sizes = (process.env.BENCH_PLANNED_STEPS || '1000000,10000000').split(',').map(Number);
  if (sizes.length !== 2 || sizes.some((size) => !Number.isInteger(size))) throw new Error('BENCH_PLANNED_STEPS must be two sizes, such as 1000000,10000000');
  const databaseUrl = `${DATABASE_URL}_planned`;
  await dropDatabase(databaseUrl);
  await flushRedis(REDIS_URL);
  const app = await createApp(loadConfig({ ...context.env, DATABASE_URL: databaseUrl, APP_ROLE: 'api', WORKER_PROCESSES: '0' }));
  try {
    await app.listen(context.httpPort, '127.0.0.1');
    const planned = await plannedSteps(
      { app, baseUrl: `http://127.0.0.1:${context.httpPort}`, apiKey: context.apiKey, databaseUrl, redisUrl: REDIS_URL },
      {
        run: `${context.run}p`,
        sizes,
        inside: intEnv('BENCH_PLANNED_INSIDE', 10_000),
        runs: 5,
        plansFile: join(ROOT, 'bench', 'results', 'planned-steps-plans.md'),
      },
    );
    const [small, large] = planned.sizes as [SweepAtSize, SweepAtSize];
    return {
      plannedStepsAt: new Date().toISOString(),
      plannedStepsInside: planned.inside,
      plannedStepsSmall: small.rows,
      sweepMsSmall: small.sweepMs,
      sweepSqlMsSmall: small.sweepSqlMs,
      plannedStepsLarge: large.rows,
      sweepMsLarge: large.sweepMs,
      sweepSqlMsLarge: large.sweepSqlMs,
      plannedStepsCopyRowsPerSecond: large.copyRowsPerSecond,
      redisBytesPerQueuedJob: planned.redisBytesPerJob,
      sweepPlanAtLarge: planned.sweepPlan,
      lockPlanAtLarge: planned.lockPlan,
      claimPlanAtLarge: planned.claimPlan,
    };
  } finally {
    await app.close();
    // Ten million rows take gigabytes: the database goes as soon as it is measured.
    await dropDatabase(databaseUrl);
    await flushRedis(REDIS_URL);
  }
}

/** The end-to-end flow with 1, 2 and 4 worker processes beside one API process. */
async function scaleOutPhase(context: BenchContext): Promise<ScaleOutFigures> {
  const events = intEnv('BENCH_SCALE_EVENTS', context.events);
  const { runs, postgresBytesPerCase, postgresRowsPerCase } = await scaleOut(
    // Five processes of DATABASE_POOL_SIZE each must fit the server's max_connections beside other users.
    { ...context.env, DATABASE_POOL_SIZE: '10' },
    {
      databaseUrl: `${DATABASE_URL}_scale`,
      sink: context.sink,
      apiKey: context.apiKey,
      run: `${context.run}w`,
      events,
      batch: context.batch,
      workerCounts: [1, 2, 4],
    },
  );
  const [one, two, four] = runs as [ScaleOutRun, ScaleOutRun, ScaleOutRun];
  return {
    scaleOutAt: new Date().toISOString(),
    scaleOutEvents: events,
    scaleOutNoticesPerSecond1: one.noticesPerSecond,
    scaleOutNoticesPerSecond2: two.noticesPerSecond,
    scaleOutNoticesPerSecond4: four.noticesPerSecond,
    scaleOutEfficiency2: two.efficiency,
    scaleOutEfficiency4: four.efficiency,
    scaleOutCpuPerNoticeMs1: one.cpuPerNoticeMs,
    scaleOutCpuPerNoticeMs2: two.cpuPerNoticeMs,
    scaleOutCpuPerNoticeMs4: four.cpuPerNoticeMs,
    scaleOutPostgresCpuPerNoticeMs1: one.cpuPerNoticePostgresMs,
    postgresBytesPerCase,
    postgresRowsPerCase,
  };
}

async function main(): Promise<void> {
  const phases = phasesToRun();
  const resultsDir = join(ROOT, 'bench', 'results');
  // A run of fewer phases keeps the other groups' figures from the last results.
  const previous = phases.size < PHASES.length ? await readResults(resultsDir) : undefined;
  const events = intEnv('BENCH_EVENTS', 20_000);
  const batch = intEnv('BENCH_BATCH', 500);
  const loadAtStart = loadavg()[0]!;
  // One process per core: the service process (API and a worker) and a worker process beside it.
  const workerProcesses = intEnv('BENCH_WORKER_PROCESSES', availableParallelism() - 1, 0);
  const layout =
    `1 service process (API + worker)` +
    (workerProcesses ? ` + ${workerProcesses} worker process${workerProcesses > 1 ? 'es' : ''} (WORKER_PROCESSES=${workerProcesses})` : '') +
    ', and the bench process (HTTP client, SMTP sink)';
  const run = randomBytes(4).toString('hex');
  let policiesDir: string | undefined;
  const { sink, port: smtpPort } = await SmtpSink.start();
  try {
    policiesDir = await writeBenchPolicy();
    const apiKey = randomBytes(16).toString('hex');
    const financeKey = randomBytes(16).toString('hex');
    const httpPort = await freePort();
    // As the image runs it (NODE_ENV, the heap limit); the split-roles phase starts its processes with the same settings.
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      NODE_OPTIONS: await imageNodeOptions(join(ROOT, 'Dockerfile')),
      PORT: String(httpPort),
      HOST: '127.0.0.1',
      APP_ROLE: 'all',
      WORKER_PROCESSES: String(workerProcesses),
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
    };
    const context: BenchContext = { run, events, batch, sink, smtpPort, apiKey, financeKey, httpPort, workerProcesses, layout, env };
    const core = phases.has('core') ? await corePhases(context, loadAtStart) : previous!;
    const planned = phases.has('planned-steps') ? await plannedStepsPhase(context) : undefined;
    const scale = phases.has('scale-out') ? await scaleOutPhase(context) : undefined;
    const result: BenchResult = { ...previous, ...core, ...planned, ...scale };
    console.log(`\n${await writeResults(resultsDir, result)}\n`);
  } finally {
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
