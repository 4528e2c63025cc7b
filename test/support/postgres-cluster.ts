import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { waitFor } from './wait-for';
import { onCleanup } from './cleanup';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL cluster of the suite's own, on its own port, that it may restart at will (the
 * shared one on 5432 is never touched), or a streaming standby of one. PostgreSQL refuses to run as root, so initdb and pg_ctl
 * run as the `postgres` OS user, on a data dir under a temp dir that user owns; trust auth.
 */
export class PostgresCluster {
  readonly dir: string;
  private readonly data: string;
  private readonly log: string;
  private forget?: () => void;

  constructor(readonly port: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'dunning-pg-'));
    this.data = join(this.dir, 'data');
    this.log = join(this.dir, 'postgres.log');
    chownSync(this.dir, uid('postgres'), gid('postgres'));
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.forget = onCleanup(`PostgreSQL on ${this.port}`, () => this.destroy());
    asPostgres('initdb', ['-D', this.data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync', '--no-instructions']);
    await this.launch();
  }

  /**
   * A hot standby of `primary`, streaming its WAL: a base backup with the standby's settings
   * written (`-R`), then started read-only. initdb's trust rules already admit replication from
   * 127.0.0.1.
   */
  async startStandbyOf(primary: PostgresCluster): Promise<void> {
    this.forget = onCleanup(`PostgreSQL standby on ${this.port}`, () => this.destroy());
    asPostgres('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', this.data, '-R', '-X', 'stream', '--no-sync']);
    await this.launch();
  }

  private async launch(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${this.dir}`,
      // One API and up to four workers with 20 connections each, and the suite's own.
      '-c max_connections=300',
      // A throwaway cluster: durability is not under test, a fast restart is.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
    ].join(' ');
    asPostgres('pg_ctl', ['-D', this.data, '-l', this.log, '-o', options, '-w', '-t', '60', 'start']);
    await this.ready();
  }

  /**
   * `pg_ctl restart -m fast`: every connection is dropped (57P01), the server comes back on the
   * same port. `whileDown` runs as soon as the server refuses connections (or, should the
   * restart be too quick to see, right after it); returns whether it ran while the server was down.
   */
  async restart(whileDown: () => void = () => undefined): Promise<boolean> {
    const pgCtl = spawn('runuser', ['-u', 'postgres', '--', join(BIN, 'pg_ctl'), '-D', this.data, '-l', this.log, '-m', 'fast', '-w', '-t', '60', 'restart'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    pgCtl.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let finished = false;
    const done = new Promise<number | null>((resolve) => pgCtl.once('exit', (code) => resolve(code))).finally(() => (finished = true));
    let sawDown = false;
    while (!finished && !sawDown) {
      sawDown = !(await this.query('postgres', 'SELECT 1').then(
        () => true,
        () => false,
      ));
    }
    whileDown();
    const code = await done;
    if (code !== 0) throw new Error(`pg_ctl restart failed (${code}): ${stderr}`);
    await this.ready();
    return sawDown;
  }

  async query<R extends Record<string, unknown>>(database: string, sql: string, params: unknown[] = []): Promise<R[]> {
    const client = new Client({ connectionString: `${this.url}/${database}` });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** The server's log, for a failure's evidence. */
  logTail(lines = 40): string {
    try {
      return readFileSync(this.log, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Stops the server and removes its data dir; safe to call twice. */
  stop(): void {
    this.forget?.();
    this.forget = undefined;
  }

  private destroy(): void {
    spawnSync('runuser', ['-u', 'postgres', '--', join(BIN, 'pg_ctl'), '-D', this.data, '-m', 'immediate', '-w', '-t', '30', 'stop'], { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async ready(): Promise<void> {
    await waitFor(`PostgreSQL on ${this.port} to answer`, () => this.query('postgres', 'SELECT 1').then(() => true), 30_000, 100);
  }
}

function asPostgres(tool: string, args: string[]): void {
  const result = spawnSync('runuser', ['-u', 'postgres', '--', join(BIN, tool), ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
}

function uid(user: string): number {
  return Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
}

function gid(user: string): number {
  return Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
}
