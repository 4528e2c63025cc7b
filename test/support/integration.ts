import { randomBytes } from 'node:crypto';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { AppModule } from '../../src/app.module';
import { Clock } from '../../src/common/clock';
import { type AppConfig, loadConfig } from '../../src/config/config.schema';
import { DataSource } from 'typeorm';
import { dataSourceOptions, migrations } from '../../src/database/data-source';
import { ensureDatabase, migrate } from '../../src/database/preflight';
import { Transactions, type Tx } from '../../src/database/transactions';
import { suiteRedis, testDatabase, testEnv } from './test-app';

/**
 * The stores of one integration suite: its own database (dropped, then migrated) and its own
 * queue prefix in Redis database 0, so suites run side by side without a Redis database each.
 * `cleanUp` deletes the suite's queue keys.
 */
export async function integrationStores(
  suite: string,
  extra: Record<string, string> = {},
  options: StoreOptions = {},
): Promise<{ config: AppConfig; cleanUp(): Promise<void> }> {
  const prefix = `test-${suite}-${randomBytes(4).toString('hex')}`;
  const config = loadConfig(testEnv(`int_${suite}`, 0, { QUEUE_PREFIX: prefix, ...extra }));
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${testDatabase(`int_${suite}`)}" WITH (FORCE)`);
  await admin.end();
  if (options.migrateBefore) await migrateBefore(config, options.migrateBefore);
  else await migrate(config);
  return {
    config,
    async cleanUp() {
      const redis = suiteRedis(config);
      try {
        for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 }) as AsyncIterable<string[]>) {
          if (keys.length > 0) await redis.unlink(...keys);
        }
      } finally {
        redis.disconnect();
      }
    },
  };
}

export interface StoreOptions {
  /** Stop short of this migration (by class name): a database as an older release left it, for upgrade tests. */
  migrateBefore?: string;
}

/** Applies the migrations before `name` only. */
async function migrateBefore(config: AppConfig, name: string): Promise<void> {
  const index = migrations.findIndex((migration) => migration.name === name);
  if (index < 0) throw new Error(`no migration ${name}`);
  await ensureDatabase(config.DATABASE_URL);
  const dataSource = new DataSource({ ...dataSourceOptions({ ...config, DATABASE_POOL_SIZE: 2 }), migrations: migrations.slice(0, index) });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'all' });
  } finally {
    await dataSource.destroy();
  }
}

/** The service's providers without HTTP and without workers: repositories and use cases, on a clock the test sets. */
export interface IntegrationContext {
  config: AppConfig;
  get<T>(type: Type<T>): T;
  /** Runs work in one transaction, committed when it resolves. */
  tx<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /** Every provider's "now" until the next call (or `restore`). */
  setNow(at: Date): void;
  close(): Promise<void>;
}

export async function startIntegration(suite: string, extra: Record<string, string> = {}, options: StoreOptions = {}): Promise<IntegrationContext> {
  // The API role: no worker takes the jobs a test enqueues, and no sweep runs on its own.
  const { config, cleanUp } = await integrationStores(suite, { APP_ROLE: 'api', ...extra }, options);
  const app: INestApplicationContext = await NestFactory.createApplicationContext(AppModule.register(config), { logger: false });
  const clock = app.get(Clock);
  const systemNow = clock.now.bind(clock);
  return {
    config,
    get: (type) => app.get(type),
    tx: (work) => app.get(Transactions).run(work),
    setNow(at) {
      clock.now = () => new Date(at);
    },
    async close() {
      clock.now = systemNow;
      await app.close();
      await cleanUp();
    },
  };
}
