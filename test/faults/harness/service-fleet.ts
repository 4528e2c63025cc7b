import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, readlinkSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../../support/wait-for';
import { onCleanup } from '../../support/cleanup';
import { freePort } from '../../support/ports';

export type Role = 'api' | 'worker';

/** How a service process ended, or that it has not. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The suite sent the signal (a fault), so this exit is not a crash. */
  expected: boolean;
}

/** One `node dist/main.js` of the fleet (from the suite's snapshot of dist/), with its log in the scenario's dir. */
export class ServiceProcess {
  readonly exited: Promise<ProcessExit>;
  exit?: ProcessExit;
  /** Date.now() when /health/ready first answered 200. */
  readyAt?: number;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private tail = '';
  private expectExit = false;
  private readonly forget: () => void;

  constructor(
    readonly name: string,
    readonly role: Role,
    readonly port: number,
    main: string,
    env: Record<string, string>,
    logDir: string,
  ) {
    this.log = createWriteStream(join(logDir, `${name}.log`));
    this.child = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH ?? '', ...env, APP_ROLE: role, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.log.write(chunk);
      this.tail = (this.tail + chunk.toString('utf8')).slice(-200_000);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    const child = this.child;
    this.forget = onCleanup(`service process ${name}`, () => child.kill('SIGKILL'));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal, expected: this.expectExit };
        this.forget();
        this.log.end();
        resolve(this.exit);
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** What the process wrote (the last 200 kB). */
  output(): string {
    return this.tail;
  }

  async ready(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${this.name} to be ready on ${this.port}`,
      async () => {
        if (this.exit) throw new Error(`${this.name} exited (${this.exit.code ?? this.exit.signal}) while booting:\n${this.tail.slice(-4000)}`);
        return (await fetch(`http://127.0.0.1:${this.port}/health/ready`)).ok;
      },
      timeoutMs,
      100,
    );
    this.readyAt = Date.now();
  }

  /**
   * The local ports of this process's TCP connections to `port` on this host (from /proc), so
   * that a server in the suite can tell this process's connections from the others'.
   */
  connectionsTo(port: number): Set<number> {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${this.pid}/fd`)) {
      try {
        const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${this.pid}/fd/${fd}`));
        if (socket) inodes.add(socket[1]!);
      } catch {
        // the descriptor closed meanwhile
      }
    }
    const ports = new Set<number>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        const [local, remote, inode] = [fields[1], fields[2], fields[9]];
        if (!local || !remote || !inode || !inodes.has(inode)) continue;
        if (parseInt(remote.split(':')[1]!, 16) === port) ports.add(parseInt(local.split(':')[1]!, 16));
      }
    }
    return ports;
  }

  /** Sends a signal as the fault under test: the exit that follows is expected, not a crash. */
  signal(signal: NodeJS.Signals): void {
    this.expectExit = true;
    this.child.kill(signal);
  }
}

/** The API process and the worker processes of one scenario, on one database and one Redis. */
export class ServiceFleet {
  readonly processes: ServiceProcess[] = [];
  private count = 0;

  constructor(
    /** The built service's entry point: a snapshot of dist/main.js. */
    private readonly main: string,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
  ) {}

  get api(): ServiceProcess {
    const api = this.processes.find((p) => p.role === 'api');
    if (!api) throw new Error('the fleet has no API process');
    return api;
  }

  get workers(): ServiceProcess[] {
    return this.processes.filter((p) => p.role === 'worker' && p.alive);
  }

  /** Starts the API first (it migrates the new database), then the workers side by side. */
  async start(workers: number): Promise<void> {
    await (await this.spawn('api')).ready();
    await Promise.all(Array.from({ length: workers }, async () => (await this.spawn('worker')).ready()));
  }

  async addWorker(): Promise<ServiceProcess> {
    const worker = await this.spawn('worker');
    await worker.ready();
    return worker;
  }

  /** The processes that ended without the suite asking them to. */
  crashed(): ServiceProcess[] {
    return this.processes.filter((p) => p.exit && !p.exit.expected);
  }

  /** SIGTERM to every live process, SIGKILL to any still running after the grace period. */
  async stop(graceMs = 30_000): Promise<void> {
    const live = this.processes.filter((p) => p.alive);
    live.forEach((p) => p.signal('SIGTERM'));
    const timer = setTimeout(() => live.forEach((p) => p.alive && p.signal('SIGKILL')), graceMs);
    await Promise.all(live.map((p) => p.exited));
    clearTimeout(timer);
  }

  private async spawn(role: Role): Promise<ServiceProcess> {
    const name = `${role}-${++this.count}`;
    const service = new ServiceProcess(name, role, await freePort(), this.main, this.env, this.logDir);
    this.processes.push(service);
    return service;
  }
}
