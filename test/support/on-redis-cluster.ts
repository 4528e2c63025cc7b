import { RedisCluster } from './redis-cluster';

/**
 * The e2e-cluster project's setup (jest.config.js): each suite file gets a Redis Cluster of
 * its own for its whole run; testEnv points the service at it (TEST_REDIS_CLUSTER_NODES), and
 * a suite about the cluster itself reaches it as `redisCluster`.
 */
export const redisCluster = new RedisCluster();

beforeAll(async () => {
  await redisCluster.start();
  process.env.TEST_REDIS_CLUSTER_NODES = redisCluster.nodes;
}, 60_000);

afterAll(() => redisCluster.stop());
