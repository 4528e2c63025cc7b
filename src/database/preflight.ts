import { runMigrations } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import type { AppConfig } from '../config/config.schema';
import { createDataSource } from './data-source';
import { AdvisoryLock } from './locks.repository';

const HOW_TO_START = {
  postgres: 'Start one with `docker compose up -d postgres`, point DATABASE_URL at a running server, or leave it unset to use the embedded one.',
  redis: 'Start one with `docker compose up -d redis`, point REDIS_URL at a running server, or leave it unset to keep the queues in PostgreSQL.',
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

export async function checkRedis(redisUrl: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const policy = await redis.config('GET', 'maxmemory-policy').catch(() => null);
    if (Array.isArray(policy) && policy[1] && policy[1] !== 'noeviction') {
      // BullMQ loses jobs under eviction; the reconciler would recover them, but say so loudly.
      console.warn(`Redis at ${where(redisUrl)} runs maxmemory-policy=${policy[1]}; use noeviction.`);
    }
  } catch (error) {
    throw new DependencyUnavailable(`Redis is not reachable at ${where(redisUrl)} (REDIS_URL): ${(error as Error).message}. ${HOW_TO_START.redis}`);
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
