import { randomBytes } from 'node:crypto';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { AppModule } from '../../src/app.module';
import { Clock } from '../../src/common/clock';
import { type AppConfig, loadConfig } from '../../src/config/config.schema';
import { migrate } from '../../src/database/preflight';
import { Transactions, type Tx } from '../../src/database/transactions';
import { suiteRedis, testDatabase, testEnv } from './test-app';

/**
 * The stores of one integration suite: its own database (dropped, then migrated) and its own
 * queue prefix in Redis database 0, so suites run side by side without a Redis database each.
 * `cleanUp` deletes the suite's queue keys.
 */
export async function integrationStores(suite: string, extra: Record<string, string> = {}): Promise<{ config: AppConfig; cleanUp(): Promise<void> }> {
  const prefix = `test-${suite}-${randomBytes(4).toString('hex')}`;
  const config = loadConfig(testEnv(`int_${suite}`, 0, { QUEUE_PREFIX: prefix, ...extra }));
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${testDatabase(`int_${suite}`)}" WITH (FORCE)`);
  await admin.end();
  await migrate(config);
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

export async function startIntegration(suite: string, extra: Record<string, string> = {}): Promise<IntegrationContext> {
  // The API role: no worker takes the jobs a test enqueues, and no sweep runs on its own.
  const { config, cleanUp } = await integrationStores(suite, { APP_ROLE: 'api', ...extra });
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
