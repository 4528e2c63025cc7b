import { redisCluster } from '../support/on-redis-cluster';
import { bearer, overdueEvent, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/**
 * Runs in the e2e-cluster project only (jest.config.js), on a Redis Cluster of three masters of
 * the suite's own (the step flow runs there too: dunning-flow.e2e-spec.ts).
 */
describe('the queues on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await startTestApp('cluster', 0);
  });

  afterAll(async () => {
    await sut?.close();
  });

  const keysOn = (index: number) => redisCluster.node(index, (redis) => redis.keys(`${sut.config.QUEUE_PREFIX}:*`));
  const stepRuns = async () => {
    const opened = await sut.http.post('/v1/events').set(bearer('ingest')).send(overdueEvent()).expect(202);
    const caseId = opened.body.results[0].caseId as string;
    await waitFor(
      'the first step to run',
      async () => (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('finance')).expect(200)).body.schedule[0].status === 'done',
      30_000,
    );
  };
  /** The master that holds the queues' slot, once they have keys. */
  let queueMaster = -1;

  it('keeps every key of the queues under the hash-tagged prefix, on one master', async () => {
    expect(sut.config.QUEUE_PREFIX).toBe('{cluster}');
    await stepRuns();
    const counts = await Promise.all([0, 1, 2].map(async (index) => (await keysOn(index)).length));
    expect(counts.filter((count) => count > 0)).toHaveLength(1);
    queueMaster = counts.findIndex((count) => count > 0);
  });

  it("is not ready (503, never 500) while the queues' master is gone, ready again once it is back, and steps run again", async () => {
    expect((await sut.http.get('/health/ready').expect(200)).body.info.redis).toEqual({ status: 'up' });
    await redisCluster.killMaster(queueMaster);
    const down = await waitFor(
      'readiness to report the cluster down',
      async () => {
        const response = await sut.http.get('/health/ready');
        expect(response.status).not.toBe(500);
        return response.status === 503 && response.body;
      },
      30_000,
      200,
    );
    expect(down.details).toMatchObject({ redis: { status: 'down' }, postgres: { status: 'up' } });

    await redisCluster.restartMaster(queueMaster);
    await waitFor('readiness to come back', async () => (await sut.http.get('/health/ready')).status === 200, 30_000, 200);
    await stepRuns();
  });
});
