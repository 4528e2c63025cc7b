import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config/config.schema';

export type RedisClient = Redis | Cluster;

/**
 * A client for the target with the caller's options: a Redis, or an ioredis Cluster whose node
 * connections get those options (BullMQ reads `maxRetriesPerRequest` from there). The options a
 * cluster takes for itself (offline queue, lazy connect, giving up) are moved up to it.
 */
export function openRedis(target: RedisTarget, options: RedisOptions = {}): RedisClient {
  if (target.kind === 'server') return new Redis(target.url, options);
  const { lazyConnect, enableOfflineQueue, retryStrategy, ...perNode } = options;
  return new Cluster(target.nodes, {
    lazyConnect,
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy,
    redisOptions: { ...perNode, username: target.username, password: target.password, ...(target.tls ? { tls: {} } : {}) },
  });
}

/** Where the target is, for messages: hosts and ports and the setting, never credentials. */
export function describeRedis(target: RedisTarget): string {
  if (target.kind === 'cluster') return `${target.nodes.map((node) => `${node.host}:${node.port}`).join(', ')} (REDIS_CLUSTER_NODES)`;
  const url = new URL(target.url);
  return `${url.hostname}:${url.port || 6379} (REDIS_URL)`;
}

/**
 * Every server a command must reach to act on all keys: the masters of a cluster (a SCAN or a
 * CONFIG GET answers for one node only), or the one server.
 */
export function serversOf(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** Whether the target serves every slot (CLUSTER INFO's cluster_state); a single server always does. */
export async function clusterFault(client: RedisClient): Promise<string | null> {
  if (!(client instanceof Cluster)) return null;
  const state = /cluster_state:(\w+)/.exec(await client.cluster('INFO'))?.[1];
  return state === 'ok' ? null : `cluster_state is ${state ?? 'unknown'}, not ok`;
}
