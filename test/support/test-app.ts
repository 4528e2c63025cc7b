import { randomBytes, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import { Job, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { type AppFactory, createApp } from '../../src/bootstrap';
import { openRedis, serversOf } from '../../src/common/redis';
import { type AppConfig, loadConfig } from '../../src/config/config.schema';
import { JobName, QueueName } from '../../src/jobs/job-names';
import { JobQueue } from '../../src/jobs/job-queue.service';
import { waitFor } from './wait-for';

export const KEYS = {
  ingest: `ingest-${randomBytes(12).toString('hex')}`,
  finance: `finance-${randomBytes(12).toString('hex')}`,
  operator: `operator-${randomBytes(12).toString('hex')}`,
  collector: `collector-${randomBytes(12).toString('hex')}`,
  qa: `qa-${randomBytes(12).toString('hex')}`,
  auditor: `auditor-${randomBytes(12).toString('hex')}`,
  admin: `admin-${randomBytes(12).toString('hex')}`,
};

export const TEST_API_KEYS = Object.entries(KEYS)
  .map(([role, secret]) => `${role}-key:${role}:${secret}`)
  .join(',');

/**
 * `TEST_DB_TAG` and `TEST_REDIS_PORT` keep a second checkout's stores apart from this one's when
 * both run tests: a tag on each database name, and a redis-server of its own.
 */
export const testDatabase = (suite: string) => `dunning_test_${suite}${process.env.TEST_DB_TAG ? `_${process.env.TEST_DB_TAG}` : ''}`;
export const testRedisUrl = (db: number) => `redis://127.0.0.1:${process.env.TEST_REDIS_PORT ?? '6379'}/${db}`;

/**
 * Projects that run suites once more on other stores (jest.config.js): `queueBackend: 'postgres'`
 * puts every queue on PostgreSQL and uses no Redis; `redisCluster` runs the queues on a Redis
 * Cluster and `readReplica` reads through a streaming standby, both started by the project's
 * setup file for each suite file.
 */
const project = globalThis as { queueBackend?: string; redisCluster?: boolean; readReplica?: boolean };
export const queuesOnPostgres = project.queueBackend === 'postgres';

/** Where the suite's stores are, by project. */
function stores(suite: string, redisDb: number): Record<string, string> {
  if (queuesOnPostgres) return { DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${testDatabase(`${suite}_pgq`)}`, QUEUE_BACKEND: 'postgres' };
  if (project.redisCluster) {
    return {
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${testDatabase(`${suite}_cluster`)}`,
      REDIS_CLUSTER_NODES: process.env.TEST_REDIS_CLUSTER_NODES ?? '',
      QUEUE_PREFIX: `{${suite}}`,
    };
  }
  if (project.readReplica) {
    return {
      DATABASE_URL: `${process.env.TEST_PRIMARY_URL}/${testDatabase(suite)}`,
      DATABASE_READ_URL: `${process.env.TEST_STANDBY_URL}/${testDatabase(suite)}`,
      // Beside the e2e project's run of the same suite: the shared db, under a prefix of its own.
      REDIS_URL: testRedisUrl(SHARED_REDIS_DB),
      QUEUE_PREFIX: `e2e-replica-${suite}`,
    };
  }
  return { DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${testDatabase(suite)}`, REDIS_URL: testRedisUrl(redisDb) };
}

export function testEnv(suite: string, redisDb: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...stores(suite, redisDb),
    API_KEYS: TEST_API_KEYS,
    POLICIES_DIR: 'test/fixtures/policies',
    TEMPLATES_DIR: 'templates',
    COMPLIANCE_FILE: 'test/fixtures/compliance-open.yaml',
    // Suites poll the API while they wait; the rate-limit suite sets its own.
    RATE_LIMIT: '1000000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    // Suites not about quality inspection must not see qa.scored touches arrive on the sweep's timer.
    QA_SCORING: 'off',
    STEP_BACKOFF: 'PT0.2S',
    STEP_ATTEMPTS: '3',
    ...extra,
  };
}

/** The Redis database that suites share by queue prefix (the integration suites' too): never flushed. */
export const SHARED_REDIS_DB = 0;

/**
 * Drops the suite's database and empties its Redis: the whole db, or in the shared one only the
 * keys under the suite's queue prefix.
 */
export async function resetStores(config: AppConfig): Promise<void> {
  const server = new URL(config.DATABASE_URL);
  const name = server.pathname.slice(1);
  server.pathname = '/postgres';
  const admin = new Client({ connectionString: server.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
  await clearRedis(config);
}

/** Empties the suite's Redis: the whole db, or in the shared one (or a cluster) only its queue prefix's keys. */
export async function clearRedis(config: AppConfig): Promise<void> {
  // On PostgreSQL the jobs went with the dropped database.
  if (config.QUEUE_BACKEND !== 'redis') return;
  const redis = openRedis(config.redis, { lazyConnect: true });
  await redis.connect();
  try {
    if (config.redis.kind === 'server' && new URL(config.redis.url).pathname !== `/${SHARED_REDIS_DB}`) {
      await redis.flushdb();
      return;
    }
    // A hash-tagged prefix keeps a queue's keys on one node; a SCAN sees one node's keys only.
    for (const server of serversOf(redis)) {
      for await (const keys of server.scanStream({ match: `${config.QUEUE_PREFIX}:*`, count: 500 }) as AsyncIterable<string[]>) {
        if (keys.length > 0) await server.unlink(...keys);
      }
    }
  } finally {
    redis.disconnect();
  }
}

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  http: ReturnType<typeof request>;
  db: DataSource;
  queue: Queue;
  close(): Promise<void>;
}

/** The app built through a testing module whose providers `override` replaces (e.g. a fixture for a data source). */
const overriding =
  (override: (builder: TestingModuleBuilder) => TestingModuleBuilder): AppFactory =>
  async (root, options) =>
    (await override(Test.createTestingModule({ imports: [root] })).compile()).createNestApplication<NestExpressApplication>(options);

export async function startTestApp(
  suite: string,
  redisDb: number,
  extra: Record<string, string> = {},
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder,
): Promise<TestApp> {
  const config = loadConfig(testEnv(suite, redisDb, extra));
  await resetStores(config);
  return openTestApp(config, override);
}

/** A new app on the stores as they are: after an earlier app's `close`, what a restart finds. */
export async function openTestApp(config: AppConfig, override?: (builder: TestingModuleBuilder) => TestingModuleBuilder): Promise<TestApp> {
  const app = await createApp(config, override && overriding(override));
  await app.init();
  return {
    app,
    config,
    http: request(app.getHttpServer()),
    db: app.get(DataSource),
    queue: app.get(JobQueue).queue(QueueName.Steps),
    close: () => app.close(),
  };
}

/** The suite's Redis, for suites that act on it directly: they run on the Redis backend only. */
export function suiteRedis(config: AppConfig): Redis {
  if (config.QUEUE_BACKEND !== 'redis' || config.redis.kind !== 'server') throw new Error('this suite acts on one Redis server and runs on that backend only');
  return new Redis(config.redis.url);
}

/** Loses every job of the suite's queues, as a flushed Redis or a restored database would. */
export async function loseAllJobs(sut: TestApp): Promise<void> {
  if (sut.config.QUEUE_BACKEND === 'redis') {
    await clearRedis(sut.config);
    return;
  }
  await Promise.all(
    sut.app
      .get(JobQueue)
      .all()
      .map((queue) => queue.obliterate({ force: true })),
  );
}

export const bearer = (role: keyof typeof KEYS) => ({ Authorization: `Bearer ${KEYS[role]}` });

/** A letter's PDF as the API serves it: its bytes, and the response to check headers on. */
export async function letterPdf(app: TestApp, letterId: string): Promise<{ bytes: Buffer; response: request.Response }> {
  const response = await app.http
    .get(`/v1/letters/${letterId}/pdf`)
    .set(bearer('auditor'))
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
  return { bytes: response.body as Buffer, response };
}

export function overdueEvent(overrides: { invoice?: Record<string, unknown>; debtor?: Record<string, unknown>; [key: string]: unknown } = {}) {
  const n = randomUUID().slice(0, 8);
  const { invoice, debtor, ...data } = overrides;
  return {
    id: `evt-${n}`,
    type: 'invoice.overdue',
    occurredAt: new Date().toISOString(),
    data: {
      invoice: { externalId: `INV-${n}`, contractRef: `CTR-${n}`, currency: 'EUR', amountDue: '1250.00', dueDate: new Date().toISOString(), ...invoice },
      debtor: { externalId: `DEB-${n}`, name: 'Ana Debtor', email: `ana-${n}@example.test`, locale: 'en', timezone: 'Europe/Berlin', ...debtor },
      ...data,
    },
  };
}

export function paymentEvent(invoiceExternalId: string, amount: string, currency = 'EUR') {
  const n = randomUUID().slice(0, 8);
  return {
    id: `pay-evt-${n}`,
    type: 'payment.received',
    occurredAt: new Date().toISOString(),
    data: { invoiceExternalId, paymentId: `PAY-${n}`, amount, currency, paidAt: new Date().toISOString() },
  };
}

export function invoiceEvent(type: 'dispute.opened' | 'dispute.resolved' | 'invoice.cancelled', invoiceExternalId: string, reason = 'test') {
  return { id: `${type}-${randomUUID().slice(0, 8)}`, type, occurredAt: new Date().toISOString(), data: { invoiceExternalId, reason } };
}

/** The step's job once it has failed for good (the queue records it after the step's row). */
export const failedJob = (sut: TestApp, stepId: string) =>
  waitFor('the job to fail for good', async () => {
    const job = await Job.fromId(sut.queue, stepId);
    return job && (await job.getState()) === 'failed' ? job : null;
  });

/** Runs a step's job once more, as a duplicate or stale job would, and returns its outcome. */
export async function runStepAgain(queue: Queue, stepId: string): Promise<unknown> {
  const job = await queue.add(JobName.RunStep, { stepId }, { jobId: `again-${randomUUID()}`, attempts: 1 });
  return waitFor(`job for step ${stepId} to finish`, async () => {
    const state = await job.getState();
    if (state === 'failed') throw new Error(`job failed: ${(await Job.fromId(queue, job.id!))?.failedReason}`);
    return state === 'completed' ? { outcome: (await Job.fromId(queue, job.id!))?.returnvalue } : null;
  }).then((result) => result.outcome);
}
