import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { onCleanup } from './cleanup';
import { freePort } from './ports';
import { waitFor } from './wait-for';

/**
 * A Redis Cluster of the suite's own: three masters without replicas or persistence on ports
 * the OS picks (each with its cluster bus on another), their slots assigned by
 * `redis-cli --cluster create`. Stopped and removed by `stop`, or by the exit handlers.
 */
export class RedisCluster {
  private readonly dir = mkdtempSync(join(tmpdir(), 'dunning-redis-cluster-'));
  private readonly forget: (() => void)[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly ports: number[] = [];
  private readonly buses: number[] = [];

  /** REDIS_CLUSTER_NODES for the service. */
  get nodes(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(',');
  }

  async start(masters = 3): Promise<void> {
    this.forget.push(onCleanup('the Redis Cluster folder', () => rmSync(this.dir, { recursive: true, force: true })));
    for (let index = 0; index < masters; index++) {
      this.ports.push(await freePort());
      this.buses.push(await freePort());
      await this.launch(index);
    }
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...this.nodes.split(','), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (${create.status}): ${create.stderr || create.stdout}`);
    await this.settled();
  }

  /** SIGKILL to one master: without a replica, its slots go unserved until it returns. */
  async killMaster(index: number): Promise<void> {
    const child = this.children[index]!;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts a killed master again: it rejoins with its slots (its nodes file is kept), empty. */
  async restartMaster(index: number): Promise<void> {
    await this.launch(index);
    await this.settled();
  }

  private async launch(index: number): Promise<void> {
    const [port, bus] = [this.ports[index]!, this.buses[index]!];
    const child = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--cluster-port', String(bus), '--bind', '127.0.0.1'],
        ...['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000'],
        ...['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', this.dir],
      ],
      { stdio: 'ignore' },
    );
    this.forget.push(onCleanup(`cluster redis-server on ${port}`, () => child.kill('SIGKILL')));
    this.children[index] = child;
    await waitFor(`cluster redis-server on ${port} to answer`, () => onNode(port, (redis) => redis.ping()), 20_000, 50);
  }

  /** Every node knows every slot's owner: only then may a client be pointed at the cluster. */
  private async settled(): Promise<void> {
    await waitFor(
      'every cluster node to report cluster_state:ok',
      async () =>
        (await Promise.all(this.ports.map((port) => onNode(port, (redis) => redis.cluster('INFO'))))).every((info) => info.includes('cluster_state:ok')),
      30_000,
      100,
    );
  }

  /** A client of one master, for what a cluster client does not do (which node holds a key). */
  node<T>(index: number, run: (redis: Redis) => Promise<T>): Promise<T> {
    return onNode(this.ports[index]!, run);
  }

  stop(): void {
    for (const undo of this.forget.reverse()) undo();
    this.forget.length = 0;
  }
}

async function onNode<T>(port: number, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}
