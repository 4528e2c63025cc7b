import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { connectionErrors } from '../../src/database/guarded-client';
import { MetricsService } from '../../src/metrics/metrics.service';
import { type IntegrationContext, startIntegration } from '../support/integration';
import { waitFor } from '../support/wait-for';

describe('the database connection pool', () => {
  let ctx: IntegrationContext;
  let admin: Client;

  beforeAll(async () => {
    ctx = await startIntegration('db_connection');
    admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await ctx.close();
  });

  it('survives its connections being killed (as a PostgreSQL restart does), counts them, and reconnects', async () => {
    const db = ctx.get(DataSource);
    // Several connections, idle in the pool.
    await Promise.all(Array.from({ length: 4 }, () => db.query('SELECT pg_sleep(0.05)')));
    const name = (await db.query<{ name: string }[]>('SELECT current_database() AS name'))[0]!.name;
    const before = connectionErrors.count;

    const killed = await admin.query('SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1) k', [name]);
    expect(killed.rows[0].n).toBeGreaterThan(0);

    // Each idle client hears 57P01; the process goes on and the next query gets a new connection.
    await waitFor('the connection errors counted', () => connectionErrors.count > before);
    expect(await waitFor('a query on a fresh connection', () => db.query('SELECT 1 AS ok').catch(() => null))).toEqual([{ ok: 1 }]);
    expect(await ctx.get(MetricsService).scrape()).toMatch(/^dunning_database_connection_errors_total [1-9]\d*$/m);
  });

  it('runs without JIT: a gathered statement must not spend longer compiling than running', async () => {
    const db = ctx.get(DataSource);
    expect(await Promise.all(Array.from({ length: 3 }, () => db.query('SHOW jit')))).toEqual([[{ jit: 'off' }], [{ jit: 'off' }], [{ jit: 'off' }]]);
  });
});
