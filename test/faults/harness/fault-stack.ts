import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotBuild } from './build-snapshot';
import { onCleanup } from '../../support/cleanup';
import { FaultSmtp } from './fault-smtp';
import { freePort } from '../../support/ports';
import { PostgresCluster } from '../../support/postgres-cluster';
import { RedisServer } from './redis-server';

/**
 * The backing services of one fault suite, all its own and all breakable: a PostgreSQL cluster,
 * a redis-server and an SMTP server, each on a port of its own, plus a temp dir for the logs.
 * Everything is stopped and removed by `stop()`, or by the exit handlers if the run dies first.
 */
export class FaultStack {
  private forgetDir?: () => void;

  private constructor(
    /** The snapshot of dist/main.js every process of the suite runs. */
    readonly main: string,
    readonly dir: string,
    readonly pg: PostgresCluster,
    readonly redis: RedisServer,
    readonly smtp: FaultSmtp,
  ) {}

  static async start(): Promise<FaultStack> {
    const main = await snapshotBuild();
    const dir = mkdtempSync(join(tmpdir(), 'dunning-faults-'));
    const stack = new FaultStack(main, dir, new PostgresCluster(await freePort()), new RedisServer(await freePort(), dir), new FaultSmtp(await freePort()));
    stack.forgetDir = onCleanup(`temp dir ${dir}`, () => {
      if (process.env.FAULT_KEEP_LOGS) console.log(`fault suite logs kept in ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    });
    await Promise.all([stack.pg.start(), stack.redis.start(), stack.smtp.start()]);
    return stack;
  }

  async stop(): Promise<void> {
    await this.smtp.stop();
    await this.redis.stop();
    this.pg.stop();
    this.forgetDir?.();
  }
}
