import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { CpuMeter } from './cpu';
import { type RoleProcess, startRole } from './process-memory';
import { dropDatabase, flushRedis, postEvents, qaScoringCatchUp } from './service';
import type { SmtpSink } from './smtp-sink';
import { freePort, perNotice, round, seconds, waitFor } from './util';

const NOTICE_WAIT_MS = 10 * 60_000;

export interface ScaleOutRun {
  workers: number;
  noticesPerSecond: number;
  /** (rate with n workers ÷ rate with one) ÷ n: 1 when each added worker adds as much as the first. */
  efficiency: number;
  /** CPU per notice of every part (API and workers, PostgreSQL backends, Redis, the bench's client and sink), ms. */
  cpuPerNoticeMs: number;
  cpuPerNoticeServiceMs: number;
  cpuPerNoticePostgresMs: number;
}

export interface ScaleOut {
  runs: ScaleOutRun[];
  /** From the first run's database once every notice is sent and scored: all tables, indexes and TOAST, per case. */
  postgresBytesPerCase: number;
  postgresRowsPerCase: number;
}

/** Rows and bytes (pg_total_relation_size) of every table of the public schema, per case. */
async function sizePerCase(databaseUrl: string): Promise<{ bytes: number; rows: number }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ name: string; bytes: string }>(
      `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r'`,
    );
    let rows = 0;
    for (const table of tables.rows) rows += Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${table.name}"`)).rows[0]!.n);
    const cases = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM cases')).rows[0]!.n);
    const bytes = tables.rows.reduce((sum, table) => sum + Number(table.bytes), 0);
    return { bytes: bytes / cases, rows: rows / cases };
  } finally {
    await client.end();
  }
}

/**
 * The end-to-end notice flow with 1, 2, 4… worker processes (`APP_ROLE=worker`, one core's worth
 * each) beside one `APP_ROLE=api` process, on the same Redis and PostgreSQL, each count on a new
 * database: `events` posted to the API, timed from the first post to the last message the sink
 * received, with the CPU of every part.
 */
export async function scaleOut(
  settings: Record<string, string>,
  { databaseUrl, sink, apiKey, run, events, batch, workerCounts }: ScaleOutLoad,
): Promise<ScaleOut> {
  const runs: ScaleOutRun[] = [];
  let size: { bytes: number; rows: number } | undefined;
  for (const workers of workerCounts) {
    await dropDatabase(databaseUrl);
    await flushRedis(settings.REDIS_URL!);
    const started: RoleProcess[] = [];
    try {
      // One after the other: the first boot migrates the database.
      for (const role of ['api', ...Array.from({ length: workers }, () => 'worker')])
        started.push(await startRole({ ...settings, DATABASE_URL: databaseUrl, APP_ROLE: role, WORKER_PROCESSES: '0', PORT: String(await freePort()) }));
      const api = started[0]!;
      sink.reset();
      const cpu = await CpuMeter.start(
        started.map((role) => role.pid),
        databaseUrl,
        settings.REDIS_URL!,
      );
      const startedAt = performance.now();
      await postEvents(api.baseUrl, apiKey, { run: `${run}${workers}`, count: events, batch, inFlight: 4 });
      await waitFor(`scale-out with ${workers} workers: notices received`, () => sink.received >= events, {
        timeoutMs: NOTICE_WAIT_MS,
        intervalMs: 100,
        progress: () => `${sink.received}/${events}`,
      });
      const spent = await cpu.stop();
      const noticesPerSecond = events / seconds(startedAt, sink.lastAt);
      const first = runs[0]?.noticesPerSecond ?? noticesPerSecond;
      runs.push({
        workers,
        noticesPerSecond: round(noticesPerSecond, 1),
        efficiency: round(noticesPerSecond / first / (workers / (runs[0]?.workers ?? workers)), 3),
        cpuPerNoticeMs: perNotice(spent.service + spent.postgres + spent.redis + spent.bench, events),
        cpuPerNoticeServiceMs: perNotice(spent.service, events),
        cpuPerNoticePostgresMs: perNotice(spent.postgres, events),
      });
      console.log(`scale-out: ${workers} worker process(es), ${noticesPerSecond.toFixed(1)} notices/s, ${runs.at(-1)!.cpuPerNoticeMs} ms CPU a notice`);
      if (!size) {
        // What a case leaves behind once it is done: the notices' quality scores included.
        await qaScoringCatchUp(databaseUrl, new Date());
        size = await sizePerCase(databaseUrl);
      }
    } finally {
      for (const role of started) await role.stop().catch((error: unknown) => console.error(`stopping APP_ROLE=${role.role}:`, error));
    }
  }
  await dropDatabase(databaseUrl);
  return { runs, postgresBytesPerCase: Math.round(size!.bytes), postgresRowsPerCase: round(size!.rows, 1) };
}

export interface ScaleOutLoad {
  databaseUrl: string;
  sink: SmtpSink;
  apiKey: string;
  run: string;
  events: number;
  batch: number;
  workerCounts: readonly number[];
}
