import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { type AppConfig, loadConfig } from '../../src/config/config.schema';
import { migrate } from '../../src/database/preflight';
import { testEnv } from './test-app';

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
  await admin.query(`DROP DATABASE IF EXISTS "dunning_test_int_${suite}" WITH (FORCE)`);
  await admin.end();
  await migrate(config);
  return {
    config,
    async cleanUp() {
      const redis = new Redis(config.REDIS_URL);
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
