import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/config.schema';
import { loadDotEnv } from './config/dotenv';
import { createApp } from './bootstrap';
import { DependencyUnavailable } from './database/preflight';
import { PolicyFileError } from './policies/policy-files';

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig(process.env);
  const app = await createApp(config);
  if (config.API_KEYS.length === 0) console.warn('API_KEYS is empty: every route but /health answers 401. See .env.example.');
  if (!config.PAYMENT_ACCOUNT && !config.PAYMENT_LINK) {
    console.warn('PAYMENT_ACCOUNT and PAYMENT_LINK are unset: notices and letters can only ask debtors to contact you to pay. See docs/configuration.md.');
  }
  await app.listen(config.PORT, config.HOST);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: finishing running jobs, then closing`);
    // app.close() stops HTTP, lets workers finish their jobs, then closes connections.
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof DependencyUnavailable || error instanceof PolicyFileError;
  console.error(known ? error.message : error);
  process.exit(1);
});
