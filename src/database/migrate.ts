import { loadConfig } from '../config/config.schema';
import { loadDotEnv } from '../config/dotenv';
import { migrate } from './preflight';

/** `npm run migrate`: create the database if needed and apply pending migrations. */
async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig(process.env);
  const applied = await migrate(config);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
