import { runMigrations } from 'bullmq';
import { Client } from 'pg';
import { clusterFault, describeRedis, openRedis, serversOf } from '../common/redis';
import type { AppConfig, RedisTarget } from '../config/config.schema';
import { createDataSource } from './data-source';
import { AdvisoryLock } from './locks.repository';

const HOW_TO_START = {
  postgres: 'Start one with `docker compose up -d postgres`, point DATABASE_URL at a running server, or leave it unset to use the embedded one.',
  redis:
    'Start one with `docker compose up -d redis`, point REDIS_URL at a running server (or REDIS_CLUSTER_NODES at a cluster), or leave it unset to keep the queues in PostgreSQL.',
};

export class DependencyUnavailable extends Error {}

function where(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol.startsWith('redis') ? 6379 : 5432)}`;
}

/** Creates the database named in DATABASE_URL when the server lacks it. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new DependencyUnavailable(
      `PostgreSQL is not reachable at ${where(databaseUrl)} (DATABASE_URL): ${(error as Error).message}. ${HOW_TO_START.postgres}`,
    );
  }
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
}

/** Runs pending migrations under an advisory lock so that several processes may boot at once. */
export async function migrate(config: Pick<AppConfig, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>): Promise<string[]> {
  await ensureDatabase(config.DATABASE_URL);
  const dataSource = createDataSource({ ...config, DATABASE_POOL_SIZE: 2 });
  await dataSource.initialize();
  try {
    const runner = dataSource.createQueryRunner();
    await runner.query('SELECT pg_advisory_lock($1)', [AdvisoryLock.Migrations]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'all' });
      return applied.map((migration) => migration.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [AdvisoryLock.Migrations]);
      await runner.release();
    }
  } finally {
    await dataSource.destroy();
  }
}

/** How long a boot waits for the replica to replay the primary's latest migration. */
const REPLICA_CATCH_UP_MS = 60_000;
const UNDEFINED_DATABASE = '3D000';

/**
 * With DATABASE_READ_URL set: the replica must answer and have replayed the primary's latest
 * migration (a new database, or a schema change, reaches it a moment after the primary), else
 * the boot stops naming the setting.
 */
export async function checkReplica(config: Pick<AppConfig, 'DATABASE_URL' | 'DATABASE_READ_URL'>): Promise<void> {
  const readUrl = config.DATABASE_READ_URL;
  if (!readUrl) return;
  const latest = async (url: string) => {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return Number((await client.query<{ at: string | null }>('SELECT max("timestamp")::text AS at FROM migrations')).rows[0]?.at ?? 0);
    } finally {
      await client.end();
    }
  };
  const wanted = await latest(config.DATABASE_URL);
  const deadline = Date.now() + REPLICA_CATCH_UP_MS;
  const unusable = (why: string) => new DependencyUnavailable(`the replica at ${where(readUrl)} (DATABASE_READ_URL) is not usable: ${why}`);
  for (;;) {
    let behind: string;
    try {
      if ((await latest(readUrl)) >= wanted) return;
      behind = 'it has not replayed the latest migration';
    } catch (error) {
      // A database created on the primary a moment ago is not there yet; anything else will not mend itself.
      if ((error as { code?: string }).code !== UNDEFINED_DATABASE) throw unusable((error as Error).message);
      behind = (error as Error).message;
    }
    if (Date.now() > deadline) throw unusable(`${behind} after ${REPLICA_CATCH_UP_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The time zone names PostgreSQL knows (`pg_timezone_names`). */
export async function databaseTimeZones(databaseUrl: string): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<{ name: string }>('SELECT name FROM pg_timezone_names')).rows.map((row) => row.name);
  } finally {
    await client.end();
  }
}

/**
 * Redis must answer (on a cluster: with every slot served), and should not evict: BullMQ loses
 * jobs under eviction; the reconciler would recover them, but say so loudly.
 */
export async function checkRedis(target: RedisTarget): Promise<void> {
  const redis = openRedis(target, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const fault = await clusterFault(redis);
    if (fault) throw new Error(fault);
    for (const server of serversOf(redis)) {
      const policy = await server.config('GET', 'maxmemory-policy').catch(() => null);
      if (Array.isArray(policy) && policy[1] && policy[1] !== 'noeviction') {
        console.warn(`Redis at ${server.options.host}:${server.options.port} runs maxmemory-policy=${policy[1]}; use noeviction.`);
      }
    }
  } catch (error) {
    throw new DependencyUnavailable(`Redis is not reachable at ${describeRedis(target)}: ${(error as Error).message}. ${HOW_TO_START.redis}`);
  } finally {
    redis.disconnect();
  }
}

/** BullMQ's tables in their schema, for queues on PostgreSQL: idempotent, and serialised by BullMQ's own advisory lock. */
export async function migrateQueueSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await runMigrations(client, schema);
  } finally {
    await client.end();
  }
}
