import { PostgresCluster } from './postgres-cluster';
import { freePort } from './ports';

/**
 * The e2e-replica project's setup (jest.config.js): each suite file gets a PostgreSQL primary
 * and a hot standby streaming from it, both its own; testEnv sends DATABASE_URL to the one and
 * DATABASE_READ_URL to the other (TEST_PRIMARY_URL, TEST_STANDBY_URL).
 */
let primary: PostgresCluster | undefined;
let standby: PostgresCluster | undefined;

beforeAll(async () => {
  primary = new PostgresCluster(await freePort());
  await primary.start();
  standby = new PostgresCluster(await freePort());
  await standby.startStandbyOf(primary);
  process.env.TEST_PRIMARY_URL = primary.url;
  process.env.TEST_STANDBY_URL = standby.url;
}, 120_000);

afterAll(() => {
  standby?.stop();
  primary?.stop();
});
