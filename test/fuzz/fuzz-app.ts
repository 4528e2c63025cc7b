import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { QueueName } from '../../src/jobs/job-names';
import { JobQueue } from '../../src/jobs/job-queue.service';
import { SmtpSink } from '../support/smtp-sink';
import { clearRedis, KEYS, SHARED_REDIS_DB, startTestApp, suiteRedis, type TestApp, testRedisUrl } from '../support/test-app';
import { waitFor } from '../support/wait-for';
import { type Received, send } from './http-client';
import type { Role, SentRequest } from './requests';
import { POOLS, type PoolName, type ResolveContext } from './values';

/** An idle kept-alive connection is reused within this, well inside the server's keepAliveTimeout (5 s). */
const REUSE_WITHIN_MS = 1_000;

/** BullMQ scores a delayed job by its due time × 0x1000; a job due within this is waited for. */
const SOON_MS = 30_000;

/**
 * The keys an interrupted earlier run left under its own prefix. Two runs cannot overlap (each
 * drops and re-creates the one database dunning_test_fuzz), so every `fuzz-*` prefix is stale here.
 */
async function dropStalePrefixes(): Promise<void> {
  const redis = new Redis(testRedisUrl(SHARED_REDIS_DB));
  try {
    for await (const keys of redis.scanStream({ match: 'fuzz-*:*', count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.unlink(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * The app under fuzz: the real Nest app listening on a port of 127.0.0.1, its own PostgreSQL
 * database, a key prefix of its own in the shared Redis database, and the SMTP sink for its mail.
 *
 * Timers are set so that nothing writes behind the fuzzer's back: the sweeps run once at boot,
 * and only steps due now are enqueued (SCHEDULE_HORIZON), so "the queues are idle" means "no
 * work is in flight" and a rejected request can be checked for writes by counting rows.
 */
export class FuzzApp {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly ctx: ResolveContext;
  private constructor(
    readonly sut: TestApp,
    readonly smtp: SmtpSink,
    readonly port: number,
    private readonly pg: Client,
    private readonly countSql: string,
    private readonly queues: Queue[],
    private readonly redis: Redis,
    runTag: string,
  ) {
    this.ctx = {
      pools: Object.fromEntries(POOLS.map((pool) => [pool, [] as string[]])) as Record<PoolName, string[]>,
      runTag,
      counter: { next: 0 },
      startedAt: Date.now(),
    };
  }

  static async start(): Promise<FuzzApp> {
    const smtp = new SmtpSink();
    const smtpUrl = await smtp.start();
    const runTag = randomBytes(4).toString('hex');
    await dropStalePrefixes();
    const sut = await startTestApp('fuzz', SHARED_REDIS_DB, {
      QUEUE_PREFIX: `fuzz-${runTag}`,
      SMTP_URL: smtpUrl,
      SCHEDULE_HORIZON: 'PT1S',
      RECONCILE_EVERY: 'P1D',
      SEAL_EVERY: 'P1D',
      LEGAL_CHECK_EVERY: 'P1D',
      COMMITMENT_CHECK_EVERY: 'P1D',
      // Webhook endpoints can be created, so that their routes are exercised past the 422 of a missing key.
      WEBHOOK_SECRETS_KEY: randomBytes(32).toString('hex'),
    });
    await sut.app.listen(0, '127.0.0.1');
    const { port } = sut.app.getHttpServer().address() as AddressInfo;
    const pg = new Client({ connectionString: sut.config.DATABASE_URL });
    await pg.connect();
    const tables = (
      await pg.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
      )
    ).rows;
    if (tables.length < 10) throw new Error(`expected the migrated schema, found tables ${tables.map((t) => t.name).join(', ')}`);
    const countSql = `SELECT ${tables.map(({ name }) => `(SELECT count(*) FROM "${name}")::int AS "${name}"`).join(', ')}`;
    const queues = Object.values(QueueName).map((name) => sut.app.get(JobQueue).queue(name));
    return new FuzzApp(sut, smtp, port, pg, countSql, queues, suiteRedis(sut.config), runTag);
  }

  secrets(): Record<Role, string> {
    return KEYS;
  }

  private lastAnswerAt = 0;

  /**
   * Sends on the kept-alive connection, as clients do. Node's server closes an idle connection
   * after 5 s (keepAliveTimeout) and a client reusing it just then gets a reset the server never
   * saw (building a 10 MB body to compress takes that long): after a pause the connection is new.
   */
  async send(sent: SentRequest): Promise<Received> {
    if (Date.now() - this.lastAnswerAt > REUSE_WITHIN_MS) for (const sockets of Object.values(this.agent.freeSockets)) sockets?.forEach((s) => s.destroy());
    try {
      return await send(this.port, this.agent, sent);
    } finally {
      this.lastAnswerAt = Date.now();
    }
  }

  async sendOnNewConnection(sent: SentRequest): Promise<Received> {
    const agent = new Agent({ keepAlive: false });
    try {
      return await send(this.port, agent, sent);
    } finally {
      agent.destroy();
    }
  }

  /** The row count of every table, in one statement. */
  async rowCounts(): Promise<Record<string, number>> {
    return (await this.pg.query<Record<string, number>>(this.countSql)).rows[0]!;
  }

  /** Every queue's jobs by state. */
  async jobCounts(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const queue of this.queues) {
      for (const [state, n] of Object.entries(await queue.getJobCounts())) counts[`${queue.name}.${state}`] = n;
    }
    return counts;
  }

  /**
   * The jobs in flight, read in one MULTI (a job moving between lists while they are counted one
   * by one would be missed): waiting, running, and delayed to within the next half minute (a
   * retry's backoff, the next rung of a ladder spaced by seconds). A step deferred for days keeps
   * its delayed job; it does not run during a run of minutes.
   */
  private async inFlight(): Promise<string[]> {
    const multi = this.redis.multi();
    const soon = (Date.now() + SOON_MS) * 0x1000;
    for (const queue of this.queues) {
      const keys = queue.keys as Record<string, string>;
      multi.llen(keys.wait!).llen(keys.active!).llen(keys.paused!).zcard(keys.prioritized!).zcard(keys['waiting-children']!).zcount(keys.delayed!, 0, soon);
    }
    const replies = (await multi.exec()) ?? [];
    const states = ['waiting', 'active', 'paused', 'prioritized', 'waiting-children', `delayed (due within ${SOON_MS / 1000} s)`];
    return replies.flatMap(([error, n], i) => {
      if (error) throw error;
      const queue = this.queues[Math.floor(i / states.length)]!.name;
      return Number(n) > 0 ? [`${queue}.${states[i % states.length]}=${String(n)}`] : [];
    });
  }

  /** Waits until no job is in flight, and answers every queue's jobs by state. */
  async idle(): Promise<Record<string, number>> {
    let busy: string[] = [];
    try {
      await waitFor('the queues to be idle', async () => {
        busy = await this.inFlight();
        return busy.length === 0;
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}; still busy: ${busy.join(', ')}; ${await this.busyJobs()}`, { cause: error });
    }
    return this.jobCounts();
  }

  /** The delayed jobs and when each is due, for a report. */
  async delayedJobs(): Promise<string> {
    const out: string[] = [];
    for (const queue of this.queues) {
      const entries = await this.redis.zrange(queue.keys.delayed!, 0, -1, 'WITHSCORES');
      for (let i = 0; i < entries.length; i += 2) out.push(`${queue.name}/${entries[i]} due in ${Math.floor(Number(entries[i + 1]) / 0x1000) - Date.now()} ms`);
    }
    return out.join(', ') || 'none';
  }

  /** The jobs still in flight, for a report. */
  private async busyJobs(): Promise<string> {
    const lines: string[] = [];
    for (const queue of this.queues) {
      for (const job of await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized'], 0, 5)) {
        lines.push(
          `${queue.name}/${job.name} ${job.id} ${JSON.stringify(job.data)} attempts ${job.attemptsMade} delay ${job.opts.delay ?? 0} ${job.failedReason ?? ''}`,
        );
      }
    }
    return lines.join('; ');
  }

  /** Adds what an answer handed out to the pools later requests draw from. */
  remember(pool: PoolName, value: unknown): void {
    if (typeof value !== 'string' || value === '') return;
    const list = this.ctx.pools[pool];
    if (list.includes(value)) return;
    list.push(value);
    if (list.length > 300) list.shift();
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await this.pg.end();
    this.redis.disconnect();
    await this.sut.close();
    await clearRedis(this.sut.config);
    await this.smtp.stop();
  }
}
