import { createPostgresBackend, type Processor, Queue, Worker, type WorkerOptions } from 'bullmq';
import { redisConnectionErrors } from '../common/connection-errors';
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
    return role === 'producer' ? { url: config.REDIS_URL, enableOfflineQueue: false } : { url: config.REDIS_URL, maxRetriesPerRequest: null };
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
  return new Queue(name, { connection: connection(config, 'producer', 4), prefix: config.QUEUE_PREFIX }, backend(config));
}

/** A worker for one queue, on the configured backend, with a connection for each job it runs at once. */
export function openWorker(
  name: string,
  processor: Processor,
  config: AppConfig,
  options: Omit<WorkerOptions, 'connection' | 'prefix'> & { concurrency: number },
): Worker {
  return new Worker(
    name,
    processor,
    { ...options, connection: connection(config, 'worker', options.concurrency + 2), prefix: config.QUEUE_PREFIX },
    backend(config),
  );
}

/** Before the first queue opens: Redis must answer, or BullMQ's tables must be in place in PostgreSQL. */
export function prepareQueues(config: AppConfig): Promise<void> {
  return config.QUEUE_BACKEND === 'redis' ? checkRedis(config.REDIS_URL) : migrateQueueSchema(config.DATABASE_URL, QUEUE_SCHEMA);
}
