import { Client } from 'pg';
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/config.schema';
import { bearer, overdueEvent, startTestApp, type TestApp, testEnv } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/**
 * Runs in the e2e-replica project only (jest.config.js): DATABASE_URL is a primary of the
 * suite's own and DATABASE_READ_URL its streaming standby. With the standby's replay paused,
 * what it serves is visibly behind: the reads that may lag come from it, the rest from the
 * primary.
 */
describe('reads through a streaming replica (DATABASE_READ_URL)', () => {
  let sut: TestApp;
  let standby: Client;

  beforeAll(async () => {
    sut = await startTestApp('replica', 9);
    standby = new Client({ connectionString: sut.config.DATABASE_READ_URL });
    await standby.connect();
  });

  afterAll(async () => {
    await standby?.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
    await standby?.end();
    await sut?.close();
  });

  const get = (path: string) => sut.http.get(path).set(bearer('auditor')).expect(200);

  async function pauseReplay(): Promise<void> {
    await standby.query('SELECT pg_wal_replay_pause()');
    await waitFor(
      'the standby to pause its replay',
      async () => (await standby.query('SELECT pg_get_wal_replay_pause_state() AS state')).rows[0].state === 'paused',
    );
  }

  it('while the standby is behind, the listing lags and the case, its touches and the audit export do not; they meet once it replays', async () => {
    await pauseReplay();
    const event = overdueEvent({ invoice: { dueDate: '2099-01-01' } });
    const opened = await sut.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
    const caseId = opened.body.results[0].caseId as string;
    const listing = `/v1/cases?debtorExternalId=${event.data.debtor.externalId}`;
    const exported = `/v1/audit/export?from=2000-01-01T00:00:00Z&caseId=${caseId}`;

    // The primary's reads: the case and its touches, written a moment ago.
    expect((await get(`/v1/cases/${caseId}`)).body).toMatchObject({ id: caseId, status: 'active' });
    expect((await get(`/v1/cases/${caseId}/touches`)).body.items.map((touch: { kind: string }) => touch.kind)).toContain('case.opened');
    // The audit export stays on the primary: retention trusts it to hold what its seal covers.
    expect((await get(exported)).text).toContain('"kind":"case.opened"');
    // The standby's: not yet.
    expect((await get(listing)).body.items).toEqual([]);

    await standby.query('SELECT pg_wal_replay_resume()');
    await waitFor('the case in the listing', async () => (await get(listing)).body.items.length === 1);
  });

  it("the standby's connections are the read pool's", async () => {
    const { rows } = await standby.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'dunning reads' AND datname = current_database()`,
    );
    expect(rows[0]!.n).toBeGreaterThan(0);
  });

  it('a DATABASE_READ_URL nobody answers stops the boot naming it', async () => {
    const config = loadConfig({ ...testEnv('replica', 9), DATABASE_READ_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    await expect(createApp(config)).rejects.toThrow(/the replica at 127\.0\.0\.1:1 \(DATABASE_READ_URL\) is not usable/);
  });
});
