import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { waitFor } from '../../support/wait-for';
import { onCleanup } from '../../support/cleanup';

/**
 * A redis-server of the suite's own, without persistence (`--save "" --appendonly no`), as
 * production must never run it: a kill loses every job, which is the fault under test.
 */
export class RedisServer {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private forget?: () => void;

  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', this.dir],
      { stdio: 'ignore' },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.forget = onCleanup(`redis-server on ${this.port}`, () => child.kill('SIGKILL'));
    await waitFor(`redis-server on ${this.port} to answer`, () => this.command((redis) => redis.ping()), 20_000, 50);
  }

  /** FLUSHALL: every job, delayed or waiting or active, is gone; the rows in PostgreSQL are not. */
  async flushAll(): Promise<void> {
    await this.command((redis) => redis.flushall());
  }

  /** SIGKILL: the server and, without persistence, everything it held. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.forget?.();
    this.child = undefined;
  }

  async stop(): Promise<void> {
    await this.kill();
  }

  private async command<T>(run: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await run(redis);
    } finally {
      redis.disconnect();
    }
  }
}
