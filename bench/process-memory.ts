import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startService } from '../test/support/service-process';
import { type Lateness, stepLateness } from './lateness';
import { dropDatabase, flushRedis, postEvents } from './service';
import type { SmtpSink } from './smtp-sink';
import { freePort, round, seconds, waitFor } from './util';

const READY_MS = 60_000;
const STOP_MS = 30_000;
const NOTICE_WAIT_MS = 10 * 60_000;
const ROOT = resolve(__dirname, '..', '..');

/** A process's resident set now and its peak (VmHWM) over its whole life, from /proc (Linux only). */
export async function processMemory(pid: number): Promise<{ rssBytes: number; peakBytes: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kib('VmRSS'), peakBytes: kib('VmHWM') };
}

/** One `node dist/main.js` process of the service, as operators run it, with one APP_ROLE. */
export interface RoleProcess {
  role: string;
  pid: number;
  baseUrl: string;
  /** RSS once it answered /health/ready. */
  bootRssBytes: number;
  /** Reads its peak RSS, then stops it with SIGTERM (as an orchestrator does) and waits for the exit. */
  stop(): Promise<number>;
}

/** The NODE_OPTIONS the production image sets (`ENV NODE_OPTIONS=...` in the Dockerfile), so the bench runs processes as shipped. */
export async function imageNodeOptions(dockerfile: string): Promise<string> {
  const match = /^ENV NODE_OPTIONS=(.+)$/m.exec(await readFile(dockerfile, 'utf8'));
  if (!match) throw new Error(`${dockerfile} sets no NODE_OPTIONS`);
  // Docker's ENV quotes a value with spaces; the quotes are not part of it.
  return match[1]!.trim().replace(/^"(.*)"$/, '$1');
}

/** Starts the built service with `env` (APP_ROLE and PORT included) and waits until it is ready. */
export async function startRole(env: Record<string, string>): Promise<RoleProcess> {
  const { child, exited, output } = startService(env);
  let exitCode: number | null | undefined;
  void exited.then(({ code }) => (exitCode = code));
  const baseUrl = `http://127.0.0.1:${env.PORT}`;
  const deadline = performance.now() + READY_MS;
  const isReady = () =>
    fetch(`${baseUrl}/health/ready`).then(
      (response) => response.ok,
      () => false,
    );
  while (!(await isReady())) {
    if (exitCode !== undefined) throw new Error(`APP_ROLE=${env.APP_ROLE} exited with ${exitCode} before it was ready:\n${output().slice(-2000)}`);
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`APP_ROLE=${env.APP_ROLE} not ready within ${READY_MS / 1000} s:\n${output().slice(-2000)}`);
    }
    await sleep(200);
  }
  const pid = child.pid!;
  const { rssBytes } = await processMemory(pid);
  return {
    role: env.APP_ROLE!,
    pid,
    baseUrl,
    bootRssBytes: rssBytes,
    async stop() {
      const { peakBytes } = await processMemory(pid);
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
      const { code } = await exited;
      clearTimeout(killer);
      if (code !== 0) console.warn(`APP_ROLE=${env.APP_ROLE} exited with ${code}:\n${output().slice(-2000)}`);
      return peakBytes;
    },
  };
}

export interface SplitRoles {
  apiBootRssMb: number;
  workerBootRssMb: number;
  apiPeakRssMb: number;
  workerPeakRssMb: number;
  noticesPerSecond: number;
  lateness: Lateness;
}

const mb = (bytes: number) => round(bytes / 2 ** 20, 1);

/**
 * The production layout: one APP_ROLE=api and one APP_ROLE=worker process of `node dist/main.js`
 * on a fresh database, with the production image's NODE_ENV and NODE_OPTIONS, driven from this process. Under the ingest load (the same events as the
 * in-process phase, then every notice sent) and the lateness load, each process's peak RSS is its
 * VmHWM, read just before it is stopped.
 */
export async function splitRoles(
  settings: Record<string, string>,
  { databaseUrl, sink, apiKey, run, events, batch, lateSteps, lateWindowMs }: SplitRolesLoad,
): Promise<SplitRoles> {
  await dropDatabase(databaseUrl);
  await flushRedis(settings.REDIS_URL!);
  const image = { NODE_ENV: 'production', NODE_OPTIONS: await imageNodeOptions(join(ROOT, 'Dockerfile')) };
  const started: RoleProcess[] = [];
  try {
    // One after the other: each boot migrates the database.
    for (const role of ['api', 'worker'])
      started.push(await startRole({ ...settings, ...image, DATABASE_URL: databaseUrl, APP_ROLE: role, PORT: String(await freePort()) }));
    const [api, worker] = started as [RoleProcess, RoleProcess];
    console.log(`split roles: api pid ${api.pid} (${mb(api.bootRssBytes)} MB at boot), worker pid ${worker.pid} (${mb(worker.bootRssBytes)} MB at boot)`);

    sink.reset();
    const startedAt = performance.now();
    await postEvents(api.baseUrl, apiKey, { run, count: events, batch, inFlight: 4 });
    const ingestPerSecond = events / seconds(startedAt, performance.now());
    await waitFor('split roles: notices received', () => sink.received >= events, {
      timeoutMs: NOTICE_WAIT_MS,
      intervalMs: 100,
      progress: () => `${sink.received}/${events}`,
    });
    const noticesPerSecond = events / seconds(startedAt, sink.lastAt);
    console.log(`split roles: ${events} notices at ${noticesPerSecond.toFixed(1)}/s`);

    // Posted ahead of the window with room for a slower ingest than the one just measured.
    const leadMs = Math.round(1.5 * (lateSteps / ingestPerSecond) * 1000) + 5000;
    const lateness = await stepLateness(
      { baseUrl: api.baseUrl, apiKey, databaseUrl, sink },
      { run: `${run}l`, count: lateSteps, windowMs: lateWindowMs, leadMs },
    );
    console.log(`split roles: step lateness p50 ${lateness.p50Ms} ms, p99 ${lateness.p99Ms} ms, max ${lateness.maxMs} ms`);

    const [apiPeak, workerPeak] = [await api.stop(), await worker.stop()];
    started.length = 0;
    return {
      apiBootRssMb: mb(api.bootRssBytes),
      workerBootRssMb: mb(worker.bootRssBytes),
      apiPeakRssMb: mb(apiPeak),
      workerPeakRssMb: mb(workerPeak),
      noticesPerSecond: round(noticesPerSecond, 1),
      lateness,
    };
  } finally {
    // On failure: stop whatever still runs.
    for (const role of started) await role.stop().catch((error: unknown) => console.error(`stopping APP_ROLE=${role.role}:`, error));
  }
}

export interface SplitRolesLoad {
  databaseUrl: string;
  sink: SmtpSink;
  apiKey: string;
  run: string;
  events: number;
  batch: number;
  lateSteps: number;
  lateWindowMs: number;
}
