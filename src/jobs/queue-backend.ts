import { createPostgresBackend, type Processor, Queue, type QueueOptions, Worker, type WorkerOptions } from 'bullmq';
import { Cluster } from 'ioredis';
import { redisConnectionErrors } from '../common/connection-errors';
import { openRedis, type RedisClient } from '../common/redis';
import type { AppConfig } from '../config/config.schema';
import { connectionErrors } from '../database/guarded-client';
import { checkRedis, migrateQueueSchema } from '../database/preflight';

/** BullMQ's own schema in the service's database when the queues run on PostgreSQL. */
export const QUEUE_SCHEMA = 'bullmq';

/**
 * Where a queue or worker keeps its jobs.
 * Redis: producers fail fast (BullMQ's documented pattern), so while Redis is away an add is
 * refused at once instead of holding an HTTP request, and the row waits for its sweep; workers
 * wait for Redis to come back, as BullMQ requires of their blocking connections.
 * PostgreSQL: the service's own database; an add waits at most a few seconds for a connection.
 */
function connection(config: AppConfig, role: 'producer' | 'worker', connections: number) {
  if (config.QUEUE_BACKEND === 'redis') {
    const options = role === 'producer' ? { enableOfflineQueue: false } : { maxRetriesPerRequest: null };
    // BullMQ builds a server's client from options itself, but takes a cluster only as a client.
    return config.redis.kind === 'server' ? { url: config.redis.url, ...options } : openRedis(config.redis, options);
  }
  return {
    connectionString: config.DATABASE_URL,
    max: connections,
    connectionTimeoutMillis: 5000,
    application_name: `dunning queue ${role}`,
    schema: QUEUE_SCHEMA,
  };
}

// BullMQ's classes are typed by backend; the service uses the one API they share, typed as the default's.
const backend = (config: AppConfig) => (config.QUEUE_BACKEND === 'postgres' ? (createPostgresBackend as never) : undefined);

/** Where a queue's connection errors are counted: with Redis's, or with the database's when the queues live there. */
export const queueErrorCounter = (config: AppConfig) => (config.QUEUE_BACKEND === 'redis' ? redisConnectionErrors : connectionErrors);

/** A producer for one queue, on the configured backend. */
export function openQueue(name: string, config: AppConfig): Queue {
  const opened = connection(config, 'producer', 4);
  const options = { connection: opened, prefix: config.QUEUE_PREFIX };
  return isClusterClient(opened) ? new QueueOnClient(name, options, opened) : new Queue(name, options, backend(config));
}

/** A worker for one queue, on the configured backend, with a connection for each job it runs at once. */
export function openWorker(
  name: string,
  processor: Processor,
  config: AppConfig,
  options: Omit<WorkerOptions, 'connection' | 'prefix'> & { concurrency: number },
): Worker {
  const opened = connection(config, 'worker', options.concurrency + 2);
  const settings = { ...options, connection: opened, prefix: config.QUEUE_PREFIX };
  return isClusterClient(opened) ? new WorkerOnClient(name, processor, settings, opened) : new Worker(name, processor, settings, backend(config));
}

const isClusterClient = (opened: ReturnType<typeof connection>): opened is RedisClient => opened instanceof Cluster;

// BullMQ leaves a client it was given open when it closes: these quit theirs after.
class QueueOnClient extends Queue {
  constructor(
    name: string,
    options: QueueOptions,
    private readonly client: RedisClient,
  ) {
    super(name, options);
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      this.client.disconnect();
    }
  }
}

class WorkerOnClient extends Worker {
  constructor(
    name: string,
    processor: Processor,
    options: WorkerOptions,
    private readonly client: RedisClient,
  ) {
    super(name, processor, options);
  }

  override async close(force?: boolean): Promise<void> {
    try {
      await super.close(force);
    } finally {
      this.client.disconnect();
    }
  }
}

/** Before the first queue opens: Redis must answer, or BullMQ's tables must be in place in PostgreSQL. */
export function prepareQueues(config: AppConfig): Promise<void> {
  return config.QUEUE_BACKEND === 'redis' ? checkRedis(config.redis) : migrateQueueSchema(config.DATABASE_URL, QUEUE_SCHEMA);
}
