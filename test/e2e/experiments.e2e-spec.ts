import { randomBytes } from 'node:crypto';
import { AuditService } from '../../src/audit/audit.service';
import { rate } from '../../src/domain/collection-figures';
import { Transactions } from '../../src/database/transactions';
import { FixedClock } from '../support/fixed-clock';
import { bearer, KEYS, openTestApp, overdueEvent, paymentEvent, SHARED_REDIS_DB, startTestApp, type TestApp } from '../support/test-app';

const CASES = 10_000;
const SHARE = 0.3;
const BATCH = 1000;

interface Arm {
  arm: 'champion' | 'challenger';
  policy: string;
  cases: number;
  cured: number;
  cureRate: number;
  recovered: { currency: string; amount: string; amountMinor: string }[];
  attempts: number;
  contacts: number;
  messagesSent: number;
  messagesDelivered: number;
  contactsPerCure: number | null;
  qaFindings: number;
  sample: { debtors: number; cured: number; cureRate: number | null; notYetPastHorizon: number };
}

/** Posts the events in batches of up to 1000, as a billing system would, and answers each event's result. */
async function ingest(sut: TestApp, events: object[]): Promise<{ id: string; status: string; caseId: string }[]> {
  const results = [];
  for (let i = 0; i < events.length; i += BATCH) {
    const response = await sut.http
      .post('/v1/events')
      .set(bearer('ingest'))
      .send({ events: events.slice(i, i + BATCH) })
      .expect(202);
    results.push(...response.body.results);
  }
  expect(results.filter((result) => result.status !== 'accepted')).toEqual([]);
  return results;
}

const overdueOf = (debtor: string) => overdueEvent({ segment: 'quiet', debtor: { externalId: debtor } });

async function caseDetail(sut: TestApp, caseId: string) {
  return (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('finance')).expect(200)).body;
}

/** Every case's arm, by case id, as stored. */
async function arms(sut: TestApp): Promise<Map<string, string>> {
  const rows: { case_id: string; arm: string }[] = await sut.db.query('SELECT case_id, arm FROM case_arms ORDER BY case_id');
  return new Map(rows.map((row) => [row.case_id, row.arm]));
}

describe('champion/challenger experiments', () => {
  let sut: TestApp;
  let experimentId: string;
  let clock: { restore(): void } | undefined;
  /** The first case of each debtor of the split, with its invoice. */
  const opened = new Map<string, { caseId: string; invoice: string }>();

  beforeAll(async () => {
    sut = await startTestApp('experiments', SHARED_REDIS_DB, { QUEUE_PREFIX: `test-experiments-${randomBytes(4).toString('hex')}` });
  });

  afterAll(async () => {
    clock?.restore();
    await sut?.close();
  });

  it('is started by an admin on known policies, one running experiment per champion', async () => {
    const body = { name: 'Quiet, with a collector at the end', champion: 'quiet', challenger: 'quiet-challenger', challengerShare: SHARE, note: 'Q4 trial' };
    await sut.http.post('/v1/experiments').set(bearer('finance')).send(body).expect(403);
    const unknown = await sut.http
      .post('/v1/experiments')
      .set(bearer('admin'))
      .send({ ...body, challenger: 'no-such-policy', segment: 'no-such-segment' })
      .expect(400);
    expect(unknown.body.details).toEqual([
      { field: 'body.challenger', reason: 'is not a loaded policy key ("no-such-policy")' },
      { field: 'body.segment', reason: expect.stringMatching(/^is not a segment the policies match \(at-once, .*\)$/) },
    ]);
    const same = await sut.http
      .post('/v1/experiments')
      .set(bearer('admin'))
      .send({ ...body, challenger: 'quiet' })
      .expect(400);
    expect(same.body.details).toEqual([{ field: 'body.challenger', reason: 'must differ from the champion' }]);
    const whole = await sut.http
      .post('/v1/experiments')
      .set(bearer('admin'))
      .send({ ...body, challengerShare: 1 })
      .expect(400);
    expect(whole.body.details).toEqual([{ field: 'body.challengerShare', reason: 'must be below 1' }]);
    const horizon = await sut.http
      .post('/v1/experiments')
      .set(bearer('admin'))
      .send({ ...body, cureWithin: '60 days' })
      .expect(400);
    expect(horizon.body.details).toEqual([{ field: 'body.cureWithin', reason: expect.stringMatching(/ISO-8601 period/) }]);

    expect((await sut.http.get('/v1/experiments').set(bearer('finance')).expect(200)).body.items).toEqual([]);
    const started = await sut.http.post('/v1/experiments').set(bearer('admin')).send(body).expect(201);
    experimentId = started.body.id;
    expect(started.body).toMatchObject({
      status: 'running',
      champion: 'quiet',
      challenger: 'quiet-challenger',
      challengerShare: SHARE,
      minSample: 100,
      cureWithin: 'P60D',
      endedAt: null,
    });
    expect(started.body.actions).toEqual([{ action: 'started', actor: 'admin-key', at: expect.any(String), note: 'Q4 trial', verdictAtAction: null }]);

    const second = await sut.http
      .post('/v1/experiments')
      .set(bearer('admin'))
      .send({ ...body, name: 'again' })
      .expect(409);
    expect(second.body.message).toContain(`experiment ${experimentId}`);
  });

  it(`splits ${CASES} cases within four standard deviations of its share, each on its arm's policy`, async () => {
    const debtors = Array.from({ length: CASES }, (_, i) => `EXP-DEB-${i}`);
    const events = debtors.map(overdueOf);
    const results = await ingest(sut, events);
    debtors.forEach((debtor, i) => opened.set(debtor, { caseId: results[i]!.caseId, invoice: events[i]!.data.invoice.externalId }));

    const stored = await arms(sut);
    expect(stored.size).toBe(CASES);
    const challengers = [...stored.values()].filter((arm) => arm === 'challenger').length;
    // Binomial(10000, 0.3): mean 3000, σ = √(10000 · 0.3 · 0.7) = 45.8; four σ (183) fails a fair split once in 16,000 runs.
    const sigma = Math.sqrt(CASES * SHARE * (1 - SHARE));
    expect(Math.abs(challengers - CASES * SHARE)).toBeLessThanOrEqual(4 * sigma);

    const mismatched = await sut.db.query(`
      SELECT count(*)::int AS n FROM case_arms a JOIN cases c ON c.id = a.case_id JOIN policy_versions p ON p.id = c.policy_version_id
      WHERE (a.arm = 'challenger') <> (p.key = 'quiet-challenger')`);
    expect(mismatched[0].n).toBe(0);

    const [caseId, arm] = [...stored][0]!;
    const detail = await caseDetail(sut, caseId);
    expect(detail.experiment).toEqual({ id: experimentId, name: 'Quiet, with a collector at the end', arm });
    expect(detail.policy.key).toBe(arm === 'challenger' ? 'quiet-challenger' : 'quiet');
    const touches = (await sut.http.get(`/v1/cases/${caseId}/touches`).set(bearer('auditor')).expect(200)).body.items;
    expect(touches.find((touch: { kind: string }) => touch.kind === 'experiment.assigned')).toMatchObject({
      actor: 'system',
      data: { experimentId, arm, champion: 'quiet', challenger: 'quiet-challenger', challengerShare: SHARE, policy: detail.policy.key },
    });
  });

  it("keeps each case's arm across a restart, and a debtor's new case lands in the debtor's arm", async () => {
    const before = await arms(sut);
    await sut.close();
    sut = await openTestApp(sut.config);

    expect(await arms(sut)).toEqual(before);
    // The arms' touches (their buckets are fractions) verify like every other.
    expect((await sut.http.get('/v1/audit/verify').set(bearer('auditor')).expect(200)).body).toMatchObject({ ok: true });
    const armOfDebtor = new Map([...opened].map(([debtor, { caseId }]) => [debtor, before.get(caseId)!]));
    const sample = [...armOfDebtor].filter(([, arm]) => arm === 'challenger').slice(0, 20);
    sample.push(...[...armOfDebtor].filter(([, arm]) => arm === 'champion').slice(0, 20));
    const results = await ingest(
      sut,
      sample.map(([debtor]) => overdueOf(debtor)),
    );
    for (const [i, [, arm]] of sample.entries()) {
      const detail = await caseDetail(sut, results[i]!.caseId);
      expect(detail.experiment).toMatchObject({ id: experimentId, arm });
      expect(detail.policy.key).toBe(arm === 'challenger' ? 'quiet-challenger' : 'quiet');
    }
  });

  it('reports per arm, with the two-proportion test of the cure rates and a verdict', async () => {
    const stored = await arms(sut);
    const byArm = (arm: string) => [...opened].filter(([, { caseId }]) => stored.get(caseId) === arm).map(([, kase]) => kase);
    const [champions, challengers] = [byArm('champion'), byArm('challenger')];
    // Paid in full: 10 % of the champion's first cases, 15 % of the challenger's.
    const paid = { champion: champions.slice(0, 700), challenger: challengers.slice(0, 450) };
    await ingest(
      sut,
      [...paid.champion, ...paid.challenger].map(({ invoice }) => paymentEvent(invoice, '1250.00')),
    );
    // A collector's call on two challenger cases, and a QA finding on one of them.
    const audit = sut.app.get(AuditService);
    await sut.app.get(Transactions).run(async (tx) => {
      for (const { caseId } of challengers.slice(0, 2)) {
        await audit.record(tx, caseId, [{ kind: 'contact.recorded', actor: 'collector-key', channel: 'call', data: { outcome: 'promise' } }]);
      }
    });
    await sut.db.query(
      `INSERT INTO qa_findings (case_id, touch_id, rule_id, autofail, detail, created_at)
       SELECT case_id, id, 'hours', false, 'after 21:00', now() FROM touches WHERE case_id = $1 AND kind = 'contact.recorded'`,
      [challengers[0]!.caseId],
    );

    await sut.http.get(`/v1/experiments/${experimentId}/report`).set(bearer('operator')).expect(403);
    const reportNow = async () => (await sut.http.get(`/v1/experiments/${experimentId}/report`).set(bearer('auditor')).expect(200)).body;

    // Today no debtor's first case is 60 days old: nothing to test yet, however the cures look.
    const early = await reportNow();
    expect(early.sampleComplete).toBe(false);
    expect(early.arms.map((arm: Arm) => arm.sample.debtors)).toEqual([0, 0]);
    expect(early.arms.map((arm: Arm) => arm.cured)).toEqual([700, 450]);
    expect(early.verdict).toEqual({
      outcome: 'insufficient-sample',
      text: expect.stringMatching(/^Too early to call: the champion has 0 and the challenger has 0 debtors past/),
    });

    // 61 days on, every first case is past the horizon; a champion case paid now was paid too late for the test.
    clock = FixedClock.install(sut.app, new Date(Date.now() + 61 * 86_400_000));
    await ingest(sut, [paymentEvent(champions[700]!.invoice, '1250.00')]);
    const report = await reportNow();

    // The restart suite added 20 cases to each arm, second cases of debtors already in it: the test counts each debtor once.
    const [n1, n2] = [champions.length + 20, challengers.length + 20];
    const [d1, d2] = [champions.length, challengers.length];
    const [champion, challenger] = report.arms as Arm[];
    expect(champion).toEqual({
      arm: 'champion',
      policy: 'quiet',
      cases: n1,
      cured: 701,
      cureRate: rate(701, n1),
      recovered: [{ currency: 'EUR', amount: '876250.00', amountMinor: '87625000' }],
      attempts: 0,
      contacts: 0,
      messagesSent: 0,
      messagesDelivered: 0,
      contactsPerCure: 0,
      qaFindings: 0,
      sample: { debtors: d1, cured: 700, cureRate: rate(700, d1), notYetPastHorizon: 0 },
    });
    expect(challenger).toEqual({
      arm: 'challenger',
      policy: 'quiet-challenger',
      cases: n2,
      cured: 450,
      cureRate: rate(450, n2),
      recovered: [{ currency: 'EUR', amount: '562500.00', amountMinor: '56250000' }],
      // The two calls; the quiet ladders send no message.
      attempts: 2,
      contacts: 2,
      messagesSent: 0,
      messagesDelivered: 0,
      contactsPerCure: 0, // (2 attempts + 0 messages) ÷ 450, to two decimals
      qaFindings: 1,
      sample: { debtors: d2, cured: 450, cureRate: rate(450, d2), notYetPastHorizon: 0 },
    });
    expect(report.sampleComplete).toBe(true);
    // The test statistic worked out here from the debtor counts: pooled proportion, pooled standard error.
    const [p1, p2, pooled] = [700 / d1, 450 / d2, 1150 / (d1 + d2)];
    const z = (p2 - p1) / Math.sqrt(pooled * (1 - pooled) * (1 / d1 + 1 / d2));
    expect(report.cureRateTest.z).toBeCloseTo(z, 9);
    expect(report.cureRateTest.difference).toBeCloseTo(p2 - p1, 12);
    expect(report.cureRateTest.pValue).toBeLessThan(0.05);
    expect(report.cureRateTest.confidenceInterval.low).toBeGreaterThan(0);
    expect(report.verdict.outcome).toBe('challenger-better');
    expect(report.verdict.text).toMatch(/^The challenger cures more/);
  });

  it('is stopped or promoted by an admin only, with a note on the record; cases keep their arm and policy', async () => {
    const others = (Object.keys(KEYS) as (keyof typeof KEYS)[]).filter((role) => role !== 'admin');
    for (const role of others) {
      await sut.http.post(`/v1/experiments/${experimentId}/stop`).set(bearer(role)).send({ note: 'no' }).expect(403);
      await sut.http.post(`/v1/experiments/${experimentId}/promote`).set(bearer(role)).send({ note: 'no' }).expect(403);
    }
    const noNote = await sut.http.post(`/v1/experiments/${experimentId}/promote`).set(bearer('admin')).send({}).expect(400);
    expect(noNote.body.details).toEqual([{ field: 'body.note', reason: expect.any(String) }]);
    expect((await sut.http.get(`/v1/experiments/${experimentId}`).set(bearer('admin')).expect(200)).body.status).toBe('running');

    const before = await arms(sut);
    const promoted = await sut.http.post(`/v1/experiments/${experimentId}/promote`).set(bearer('admin')).send({ note: 'Cures 5 points more' }).expect(200);
    expect(promoted.body).toMatchObject({ status: 'promoted', endedAt: expect.any(String) });
    const detail = (await sut.http.get(`/v1/experiments/${experimentId}`).set(bearer('auditor')).expect(200)).body;
    const [d1, d2] = [...before.values()].reduce(([a, b], arm) => (arm === 'champion' ? [a + 1, b] : [a, b + 1]), [-20, -20]);
    expect(detail.actions).toEqual([
      { action: 'started', actor: 'admin-key', at: expect.any(String), note: 'Q4 trial', verdictAtAction: null },
      {
        action: 'promoted',
        actor: 'admin-key',
        at: promoted.body.endedAt,
        note: 'Cures 5 points more',
        // The verdict the promotion was decided on, kept with it.
        verdictAtAction: {
          asOf: promoted.body.endedAt,
          sampleComplete: true,
          outcome: 'challenger-better',
          text: expect.stringMatching(/^The challenger cures more/),
          samples: { champion: { debtors: d1, cured: 700 }, challenger: { debtors: d2, cured: 450 } },
          z: expect.any(Number),
          pValue: expect.any(Number),
        },
      },
    ]);
    await sut.http.post(`/v1/experiments/${experimentId}/stop`).set(bearer('admin')).send({ note: 'late' }).expect(409);
    await expect(sut.db.query(`UPDATE experiment_actions SET note = 'rewritten'`)).rejects.toThrow(/append-only/);
    await expect(sut.db.query(`UPDATE case_arms SET arm = 'champion'`)).rejects.toThrow(/append-only/);

    // New cases that would get the champion get the challenger, outside any experiment; old cases keep theirs.
    const [fresh, returning] = await ingest(sut, [overdueOf('EXP-NEW-1'), overdueOf('EXP-DEB-0')]);
    for (const { caseId } of [fresh!, returning!]) {
      const kase = await caseDetail(sut, caseId);
      expect(kase.policy.key).toBe('quiet-challenger');
      expect(kase.experiment).toBeNull();
    }
    expect(await arms(sut)).toEqual(before);

    // The champion no longer gets cases to try; the challenger does, and stopping that is on the record too.
    const body = { name: 'Back to quiet?', champion: 'quiet', challenger: 'quiet-challenger', challengerShare: 0.5 };
    await sut.http.post('/v1/experiments').set(bearer('admin')).send(body).expect(409);
    const revert = (
      await sut.http
        .post('/v1/experiments')
        .set(bearer('admin'))
        .send({ ...body, champion: 'quiet-challenger', challenger: 'quiet', segment: 'quiet' })
        .expect(201)
    ).body;
    const stopped = await sut.http.post(`/v1/experiments/${revert.id}/stop`).set(bearer('admin')).send({ note: 'No budget' }).expect(200);
    expect(stopped.body.status).toBe('stopped');
    expect(stopped.body.actions.map((a: { action: string }) => a.action)).toEqual(['started', 'stopped']);
    expect(stopped.body.actions[1].verdictAtAction).toMatchObject({ sampleComplete: false, outcome: 'insufficient-sample' });
    const [after] = await ingest(sut, [overdueOf('EXP-NEW-2')]);
    expect((await caseDetail(sut, after!.caseId)).policy.key).toBe('quiet-challenger');

    const list = (await sut.http.get('/v1/experiments').set(bearer('finance')).expect(200)).body;
    expect(list.items.map((e: { id: string; status: string }) => [e.id, e.status])).toEqual([
      [revert.id, 'stopped'],
      [experimentId, 'promoted'],
    ]);
  });
});
