import 'reflect-metadata';
import type { Server } from 'node:http';
import { ConfigError, loadConfig } from './config/config.schema';
import { loadDotEnv } from './config/dotenv';
import { createApp } from './bootstrap';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './database/embedded-postgres';
import { DependencyUnavailable } from './database/preflight';
import { PolicyFileError } from './policies/policy-files';
import { RubricFileError } from './quality/rubric-file';
import { stopWithParent, WorkerProcesses } from './worker-processes';

/** Another process holds the port: one line for the operator, not Node's stack. */
class PortInUse extends Error {
  constructor(port: number, host: string) {
    super(`PORT ${port} on ${host} is in use by another process: stop it, or set PORT to a free port`);
  }
}

/** Started when DATABASE_URL is unset; stopped after the service. */
let embedded: EmbeddedPostgres | undefined;

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig(process.env);
  if (config.embeddedPostgres) embedded = await startEmbeddedPostgres(config, (line) => console.log(line));
  const app = await createApp(config);
  if (config.API_KEYS.length === 0) console.warn('API_KEYS is empty: every route but /health answers 401. See .env.example.');
  if (!config.PAYMENT_ACCOUNT && !config.PAYMENT_LINK) {
    console.warn('PAYMENT_ACCOUNT and PAYMENT_LINK are unset: notices and letters can only ask debtors to contact you to pay. See docs/configuration.md.');
  }
  // Listened to here rather than by app.listen, which logs a failure of its own before ours.
  await app.init();
  await new Promise<void>((resolve, reject) => {
    const server = app.getHttpServer() as Server;
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUse(config.PORT, config.HOST) : error));
    server.listen(config.PORT, config.HOST, resolve);
  });

  let stopping = false;
  const stop = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    console.log(`${reason}: finishing running jobs, then closing`);
    // app.close() stops HTTP, lets workers finish their jobs, then closes connections.
    await Promise.all([app.close(), workers?.stop()]);
    // The embedded PostgreSQL last: the workers' last writes go to it.
    await embedded?.stop();
    process.exit(code);
  };
  const workers =
    config.WORKER_PROCESSES > 0
      ? new WorkerProcesses(config, (message) => {
          console.error(message);
          void stop('a worker process is gone', 1);
        })
      : undefined;
  if (workers) console.log(`started ${workers.pids.length} worker processes: pids ${workers.pids.join(', ')}`);
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  stopWithParent(() => void stop('the process that started this worker is gone'));
}

main().catch(async (error: unknown) => {
  const known =
    error instanceof ConfigError ||
    error instanceof DependencyUnavailable ||
    error instanceof PolicyFileError ||
    error instanceof RubricFileError ||
    error instanceof PortInUse;
  console.error(known ? error.message : error);
  await embedded?.stop().catch(() => undefined);
  process.exit(1);
});
