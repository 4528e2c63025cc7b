import { type ChildProcess, fork } from 'node:child_process';
import type { AppConfig } from './config/config.schema';

/** Set in a worker process's environment: the pid of the process that started it. */
const PARENT = 'WORKER_PROCESS_OF';

/** The settings of the n-th worker process (from 1): a worker of its own, health and metrics on PORT+n, starting none itself. */
export function workerProcessEnv(env: NodeJS.ProcessEnv, config: Pick<AppConfig, 'PORT'>, n: number): NodeJS.ProcessEnv {
  return { ...env, APP_ROLE: 'worker', WORKER_PROCESSES: '0', PORT: String(config.PORT + n), [PARENT]: String(process.pid) };
}

/**
 * In a worker process: calls `stop` once the process that started it is gone, even killed (its
 * IPC channel closes); at once when it went while this one was still booting.
 */
export function stopWithParent(stop: () => void, self: Pick<NodeJS.Process, 'env' | 'send' | 'connected' | 'once'> = process): void {
  if (!self.env[PARENT] || !self.send) return;
  if (self.connected) self.once('disconnect', stop);
  else stop();
}

/**
 * WORKER_PROCESSES: worker-role copies of this process, each a full worker on a core of its own.
 * `stop` ends them (SIGTERM: they finish their running jobs) and waits for them; one that exits
 * before calls `onLost`, and each stops by itself when this process is gone.
 */
export class WorkerProcesses {
  private readonly children: ChildProcess[] = [];
  private readonly exits: Promise<void>[] = [];
  private stopping = false;

  constructor(config: Pick<AppConfig, 'PORT' | 'WORKER_PROCESSES'>, onLost: (message: string) => void) {
    for (let n = 1; n <= config.WORKER_PROCESSES; n++) {
      const child = fork(process.argv[1]!, process.argv.slice(2), { env: workerProcessEnv(process.env, config, n), stdio: 'inherit' });
      this.children.push(child);
      // A fork that cannot start is lost like one that exits, not an uncaught error.
      child.once('error', (error) => {
        if (!this.stopping) onLost(`worker process ${n} could not start: ${error.message}; stopping`);
      });
      this.exits.push(
        new Promise((resolve) =>
          child.once('exit', (code, signal) => {
            if (!this.stopping) onLost(`worker process ${n} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); stopping`);
            resolve();
          }),
        ),
      );
    }
  }

  get pids(): number[] {
    return this.children.map((child) => child.pid!);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(this.exits);
  }
}
