import { randomUUID } from 'node:crypto';
import { DataSource, type QueryRunner } from 'typeorm';
import { AuditService } from '../../../src/audit/audit.service';
import { AdvisoryLock, Locks } from '../../../src/database/locks.repository';
import type { Tx } from '../../../src/database/transactions';
import { type Experiment, ExperimentRepository } from '../../../src/experiments/experiment.repository';
import type { VerdictAtAction } from '../../../src/experiments/experiment.rules';
import { PolicyAssignment } from '../../../src/experiments/policy-assignment.service';
import { newCase } from '../../support/factories';
import { waitFor } from '../../support/wait-for';
import { type IntegrationContext, startIntegration } from '../../support/integration';

describe('ExperimentRepository', () => {
  let ctx: IntegrationContext;
  let sut: ExperimentRepository;
  const at = new Date('2026-03-10T08:00:00Z');
  const minutes = (n: number) => new Date(at.getTime() + n * 60_000);

  beforeAll(async () => {
    ctx = await startIntegration('experiment_repo');
    sut = ctx.get(ExperimentRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  const experiment = (overrides: Partial<Experiment> = {}): Experiment => ({
    id: randomUUID(),
    name: 'trial',
    champion: 'quiet',
    challenger: 'quiet-challenger',
    challengerShare: 0.5,
    segment: null,
    minSample: 100,
    cureWithin: 'P60D',
    status: 'running',
    startedAt: at,
    startedBy: 'admin',
    endedAt: null,
    ...overrides,
  });

  it('stores, reads, lists newest first and ends experiments; one running per champion', async () => {
    const first = experiment({ champion: 'quick', startedAt: minutes(1) });
    const second = experiment({ champion: 'at-once', startedAt: minutes(2), segment: 'vip' });
    await ctx.tx(async (tx) => {
      await sut.insert(tx, first);
      await sut.insert(tx, second);
    });
    expect(await sut.get(undefined, second.id)).toEqual(second);
    expect(await ctx.tx((tx) => sut.runningOf(tx, 'quick'))).toEqual(first);
    await expect(ctx.tx((tx) => sut.insert(tx, experiment({ champion: 'quick' })))).rejects.toThrow(/experiments_one_running_per_champion/);

    const page = await sut.list({ limit: 1 });
    expect(page.map((e) => e.id)).toEqual([second.id]);
    expect((await sut.list({ before: { startedAt: second.startedAt.toISOString(), id: second.id }, limit: 5 })).map((e) => e.id)).toContain(first.id);

    await ctx.tx(async (tx) => {
      expect((await sut.lock(tx, first.id))!.status).toBe('running');
      await sut.end(tx, first.id, 'promoted', minutes(3));
      // An experiment already ended is left as it is.
      await sut.end(tx, first.id, 'stopped', minutes(4));
    });
    expect(await sut.get(undefined, first.id)).toMatchObject({ status: 'promoted', endedAt: minutes(3) });
    expect(await ctx.tx((tx) => sut.runningOf(tx, 'quick'))).toBeUndefined();
    const inForce = await ctx.tx((tx) => sut.inForce(tx));
    expect(inForce.map((e) => [e.id, e.status])).toEqual(
      expect.arrayContaining([
        [first.id, 'promoted'],
        [second.id, 'running'],
      ]),
    );
    // Running ones after the promoted, in the order they were promoted.
    expect(inForce.findIndex((e) => e.id === second.id)).toBeGreaterThan(inForce.findIndex((e) => e.id === first.id));
    await ctx.tx((tx) => sut.end(tx, second.id, 'stopped', minutes(5)));
  });

  it('keeps the record of actions append-only, oldest first, with the verdict a stop was taken on', async () => {
    const row = experiment();
    const verdict: VerdictAtAction = {
      asOf: minutes(1).toISOString(),
      sampleComplete: false,
      outcome: 'insufficient-sample',
      text: 'Too early to call',
      samples: { champion: { debtors: 3, cured: 1 }, challenger: { debtors: 2, cured: 0 } },
      z: 0.5,
      pValue: 0.6171,
    };
    await ctx.tx(async (tx) => {
      await sut.insert(tx, row);
      await sut.appendAction(tx, row.id, { action: 'started', actor: 'admin', at, note: null, verdictAtAction: null });
      await sut.appendAction(tx, row.id, { action: 'stopped', actor: 'admin', at: minutes(1), note: 'done', verdictAtAction: verdict });
      await sut.end(tx, row.id, 'stopped', minutes(1));
    });
    expect(await sut.actions(undefined, row.id)).toEqual([
      { action: 'started', actor: 'admin', at, note: null, verdictAtAction: null },
      { action: 'stopped', actor: 'admin', at: minutes(1), note: 'done', verdictAtAction: verdict },
    ]);
    await expect(ctx.get(DataSource).query('DELETE FROM experiment_actions')).rejects.toThrow(/append-only/);
  });

  it("stores each case's arm once, and sums each arm's cases, cures, contacts, findings and payments", async () => {
    // Not on the factory's policy (quiet), so the opening gives its cases no arm of this experiment.
    const row = experiment({ champion: 'letters' });
    await ctx.tx((tx) => sut.insert(tx, row));
    const [a, b, c] = [await newCase(ctx), await newCase(ctx), await newCase(ctx, { invoice: { currency: 'JPY', amountDue: '5000' } })];
    await ctx.tx((tx) =>
      sut.insertArms(
        tx,
        [
          { caseId: a.caseId, experimentId: row.id, arm: 'champion', bucket: 0.7 },
          { caseId: b.caseId, experimentId: row.id, arm: 'challenger', bucket: 0.1 },
          { caseId: c.caseId, experimentId: row.id, arm: 'challenger', bucket: 0.2 },
        ],
        at,
      ),
    );
    await ctx.tx((tx) => sut.insertArms(tx, [], at));
    await expect(ctx.tx((tx) => sut.insertArms(tx, [{ caseId: a.caseId, experimentId: row.id, arm: 'challenger', bucket: 0.1 }], at))).rejects.toThrow(
      /case_arms_pkey/,
    );
    expect(await sut.armOfCase(b.caseId)).toEqual({ experimentId: row.id, name: 'trial', arm: 'challenger' });
    expect(await sut.armOfCase(randomUUID())).toBeUndefined();

    const db = ctx.get(DataSource);
    await ctx.tx((tx) =>
      ctx.get(AuditService).record(tx, b.caseId, [
        { kind: 'contact.recorded', actor: 'collector', data: {} },
        { kind: 'contact.recorded', actor: 'collector', data: { outcome: 'no-answer' } },
        { kind: 'notice.sent', actor: 'system', data: {} },
        { kind: 'notice.delivered', actor: 'sms-provider', data: { status: 'failed' } },
        { kind: 'notice.delivered', actor: 'sms-provider', data: { status: 'delivered' } },
        { kind: 'hold.placed', actor: 'operator', data: {} },
      ]),
    );
    await db.query(
      `INSERT INTO qa_findings (case_id, touch_id, rule_id, autofail, detail, created_at)
       SELECT case_id, id, 'hours', false, 'late', now() FROM touches WHERE case_id = $1 AND kind IN ('contact.recorded', 'notice.sent')`,
      [b.caseId],
    );
    // An overturned finding was wrong: it does not count.
    await db.query(
      `INSERT INTO qa_findings (case_id, touch_id, rule_id, autofail, detail, status, created_at)
       SELECT case_id, id, 'records', false, 'x', 'overturned', now() FROM touches WHERE case_id = $1 AND kind = 'notice.sent'`,
      [b.caseId],
    );
    await db.query(
      `INSERT INTO payments (id, case_id, external_id, amount_minor, currency, paid_at, recorded_at) VALUES
       (gen_random_uuid(), $1, 'p1', 125000, 'EUR', now(), now()), (gen_random_uuid(), $2, 'p2', 5000, 'JPY', now(), now()),
       (gen_random_uuid(), $2, 'p3', 1, 'JPY', now(), now())`,
      [b.caseId, c.caseId],
    );
    await db.query(`UPDATE cases SET status = 'resolved' WHERE id = ANY($1)`, [[b.caseId, c.caseId]]);

    const figures = await sut.figures(row.id);
    expect(figures.sort((x, y) => x.arm.localeCompare(y.arm))).toEqual([
      {
        arm: 'challenger',
        cases: 2,
        cured: 2,
        // Two calls, one answered; the notice is a message, and one receipt of two says delivered.
        attempts: 2,
        contacts: 1,
        messagesSent: 1,
        messagesDelivered: 1,
        qaFindings: 3,
        recovered: [
          { currency: 'EUR', amountMinor: 125000n },
          { currency: 'JPY', amountMinor: 5001n },
        ],
      },
      { arm: 'champion', cases: 1, cured: 0, attempts: 0, contacts: 0, messagesSent: 0, messagesDelivered: 0, qaFindings: 0, recovered: [] },
    ]);
  });

  it('samples each debtor once, by their first case, once it is past the horizon, cured only within it', async () => {
    const row = experiment({ champion: 'night-step', cureWithin: 'P10D' });
    await ctx.tx((tx) => sut.insert(tx, row));
    const day = (n: number) => new Date(at.getTime() + n * 86_400_000);
    const openOn = async (n: number, debtor: string) => {
      ctx.setNow(day(n));
      return (await newCase(ctx, { debtor: { externalId: debtor } })).caseId;
    };
    // x: first case day 0 unpaid, second case day 1 paid (the debtor counts by the first: uncured);
    // y: day 0, paid on day 9 (cured within 10 days); z: day 0, paid on day 11 (too late);
    // w: day 5, not yet 10 days old on day 12.
    const [x1, x2, y, z, w] = [await openOn(0, 'S-X'), await openOn(1, 'S-X'), await openOn(0, 'S-Y'), await openOn(0, 'S-Z'), await openOn(5, 'S-W')];
    ctx.setNow(at);
    await ctx.tx((tx) =>
      sut.insertArms(
        tx,
        [x1, x2, y, z, w].map((caseId) => ({ caseId, experimentId: row.id, arm: 'challenger' as const, bucket: 0.1 })),
        at,
      ),
    );
    const db = ctx.get(DataSource);
    const paid = (caseId: string, on: Date) => db.query(`UPDATE cases SET status = 'resolved', closed_at = $2 WHERE id = $1`, [caseId, on]);
    await paid(x2, day(2));
    await paid(y, day(9));
    await paid(z, day(11));

    expect(await sut.sample(row, day(12))).toEqual([{ arm: 'challenger', debtors: 4, pastHorizon: 3, cured: 1 }]);
    // On day 9 nobody is 10 days past their first opening yet.
    expect(await sut.sample(row, day(9))).toEqual([{ arm: 'challenger', debtors: 4, pastHorizon: 0, cured: 0 }]);
    expect(await sut.sample({ ...row, cureWithin: 'P12D' }, day(20))).toEqual([{ arm: 'challenger', debtors: 4, pastHorizon: 4, cured: 2 }]);
  });

  it('takes the experiments lock shared at an opening: a promotion waits for openings, and an opening that waited sees it', async () => {
    const row = experiment({ champion: 'sms-once' });
    await ctx.tx((tx) => sut.insert(tx, row));
    const db = ctx.get(DataSource);
    const assign = (tx: Tx) => ctx.get(PolicyAssignment).assign(tx, [{ debtorExternalId: 'L-1', segment: 'sms-once' }]);
    const tryLock = async (runner: QueryRunner, fn: string) =>
      ((await runner.query(`SELECT ${fn}($1) AS taken`, [AdvisoryLock.Experiments])) as { taken: boolean }[])[0]!.taken;

    // While an opening holds it, another opening shares it and a start, stop or promotion cannot have it.
    await ctx.tx(async (tx) => {
      await assign(tx);
      const other = db.createQueryRunner();
      await other.startTransaction();
      try {
        expect(await tryLock(other, 'pg_try_advisory_xact_lock_shared')).toBe(true);
        expect(await tryLock(other, 'pg_try_advisory_xact_lock')).toBe(false);
      } finally {
        await other.rollbackTransaction();
        await other.release();
      }
    });

    // A promotion holds it: the opening waits, then reads the committed promotion (the challenger, no arm).
    let proceed!: () => void;
    const gate = new Promise<void>((resolve) => (proceed = resolve));
    let held!: () => void;
    const locked = new Promise<void>((resolve) => (held = resolve));
    const promotion = ctx.tx(async (tx) => {
      await ctx.get(Locks).take(tx, AdvisoryLock.Experiments);
      await sut.end(tx, row.id, 'promoted', at);
      held();
      await gate;
    });
    await locked;
    const opening = ctx.tx((tx) => assign(tx));
    await waitFor('the opening to wait for the experiments lock', async () => {
      const [waiting] = await db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted`, [
        AdvisoryLock.Experiments,
      ]);
      return waiting.n > 0;
    });
    proceed();
    await promotion;
    expect(await opening).toEqual([{ policy: expect.objectContaining({ key: 'quiet-challenger' }), arm: null }]);
  });

  it('assigns the same debtor to the same arm, and only the cases of its segment', async () => {
    const row = experiment({ champion: 'batch-ladder', segment: 'batch-run', challengerShare: 0.5 });
    await ctx.tx((tx) => sut.insert(tx, row));
    const assign = (segment: string, debtorExternalId: string, policyKey?: string) =>
      ctx.tx((tx) => ctx.get(PolicyAssignment).assign(tx, [{ debtorExternalId, segment, policyKey }]));
    // The experiment's id is random and the split a hash of it: 40 debtors all in one arm at a 0.5 share is a 1 in 2^39 chance (8 were 1 in 128).
    const arms = await Promise.all(Array.from({ length: 40 }, (_, i) => assign('batch-run', `D-${i}`)));
    expect(new Set(arms.map(([x]) => x!.arm!.arm))).toEqual(new Set(['champion', 'challenger']));
    for (const [i, [x]] of arms.entries()) {
      expect(x!.policy.key).toBe(x!.arm!.arm === 'challenger' ? 'quiet-challenger' : 'batch-ladder');
      expect((await assign('batch-run', `D-${i}`))[0]!.arm!.arm).toBe(x!.arm!.arm);
    }
    // Another segment of the champion, and an event naming its policy, are left out.
    expect(await assign('batch-dry', 'D-0')).toEqual([{ policy: expect.objectContaining({ key: 'batch-ladder' }), arm: null }]);
    expect(await assign('batch-run', 'D-0', 'batch-ladder')).toEqual([{ policy: expect.objectContaining({ key: 'batch-ladder' }), arm: null }]);
  });
});
