import { randomUUID } from 'node:crypto';
import { CaseRepository } from '../../../src/cases/case.repository';
import { CommitmentRepository, type NewPlan, type NewPromise } from '../../../src/cases/commitment.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

describe('CommitmentRepository', () => {
  let ctx: IntegrationContext;
  let sut: CommitmentRepository;
  const at = new Date('2026-03-10T08:00:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('commitment_repo');
    sut = ctx.get(CommitmentRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  const promise = (caseId: string, more: Partial<NewPromise> = {}): NewPromise => ({
    id: randomUUID(),
    caseId,
    amountMinor: 50_000n,
    dueDate: '2026-03-20',
    pauseUntil: new Date('2026-03-22T23:00:00Z'),
    paidBeforeMinor: 10_000n,
    at,
    by: 'operator-1',
    source: 'api',
    ...more,
  });

  /** A plan of instalments of 100.00 each, due on these days. */
  const plan = (caseId: string, dueDates: string[], paidBeforeMinor = 0n): NewPlan => ({
    id: randomUUID(),
    caseId,
    at,
    by: 'operator-1',
    paidBeforeMinor,
    instalments: dueDates.map((dueDate, i) => ({ seq: i + 1, dueDate, amountMinor: 10_000n, cumulativeMinor: BigInt(i + 1) * 10_000n })),
  });

  const insertPromise = async (p: NewPromise) => {
    await ctx.tx((tx) => sut.insertPromise(tx, p));
    return p;
  };
  const insertPlan = async (p: NewPlan) => {
    await ctx.tx((tx) => sut.insertPlan(tx, p));
    return p;
  };

  describe('promises', () => {
    it('insertPromise records an open promise; cancelOpenPromises cancels it once and answers its id', async () => {
      const { caseId } = await newCase(ctx);
      const first = await insertPromise(promise(caseId));

      expect(await ctx.tx((tx) => sut.cancelOpenPromises(tx, caseId, at))).toEqual([first.id]);
      expect(await ctx.tx((tx) => sut.cancelOpenPromises(tx, caseId, at))).toEqual([]);
      expect(await ctx.tx((tx) => sut.breakPromise(tx, first.id, new Date('2027-01-01T00:00:00Z')))).toBeUndefined();

      // The cancelled promise makes room for a newer one; a case has one open promise at a time.
      const second = await insertPromise(promise(caseId, { amountMinor: 20_000n }));
      await expect(ctx.tx((tx) => sut.insertPromise(tx, promise(caseId)))).rejects.toThrow(/promises_one_open_per_case/);
      expect(await ctx.tx((tx) => sut.cancelOpenPromises(tx, caseId, at))).toEqual([second.id]);
    });

    it('keepPaidPromises keeps an open promise once the payments since it was made cover its amount', async () => {
      const { caseId } = await newCase(ctx);
      const other = await newCase(ctx);
      const kept = await insertPromise(promise(caseId, { amountMinor: 50_000n, paidBeforeMinor: 10_000n }));
      const elsewhere = await insertPromise(promise(other.caseId, { amountMinor: 50_000n, paidBeforeMinor: 10_000n }));

      expect(await ctx.tx((tx) => sut.keepPaidPromises(tx, caseId, 59_999n, at))).toEqual([]);
      expect(await ctx.tx((tx) => sut.keepPaidPromises(tx, caseId, 60_000n, at))).toEqual([{ id: kept.id, amountMinor: 50_000n }]);
      expect(await ctx.tx((tx) => sut.keepPaidPromises(tx, caseId, 90_000n, at))).toEqual([]);
      expect(await ctx.tx((tx) => sut.cancelOpenPromises(tx, caseId, at))).toEqual([]);
      expect(await ctx.tx((tx) => sut.cancelOpenPromises(tx, other.caseId, at))).toEqual([elsewhere.id]);
    });

    it('breakPromise breaks an open promise from its pause_until on, once; before that it answers nothing and the promise stays open', async () => {
      const { caseId } = await newCase(ctx);
      const p = await insertPromise(promise(caseId, { amountMinor: 30_000n, dueDate: '2026-03-20', paidBeforeMinor: 5_000n }));

      expect(await ctx.tx((tx) => sut.breakPromise(tx, p.id, new Date(p.pauseUntil.getTime() - 1)))).toBeUndefined();
      expect(await ctx.tx((tx) => sut.breakPromise(tx, p.id, p.pauseUntil))).toEqual({ amountMinor: 30_000n, dueDate: '2026-03-20', paidBeforeMinor: 5_000n });
      expect(await ctx.tx((tx) => sut.breakPromise(tx, p.id, p.pauseUntil))).toBeUndefined();
      expect(await ctx.tx((tx) => sut.cancelOpenPromises(tx, caseId, at))).toEqual([]);
      expect(await ctx.tx((tx) => sut.breakPromise(tx, randomUUID(), p.pauseUntil))).toBeUndefined();
    });
  });

  describe('plans', () => {
    it('insertPlan makes the active plan of the case; completePlan ends it', async () => {
      const { caseId } = await newCase(ctx);
      expect(await ctx.tx((tx) => sut.activePlan(tx, caseId))).toBeUndefined();

      const p = await insertPlan(plan(caseId, ['2026-04-01', '2026-05-01'], 7_500n));
      expect(await ctx.tx((tx) => sut.activePlan(tx, caseId))).toEqual({ id: p.id, paidBeforeMinor: 7_500n });
      await expect(ctx.tx((tx) => sut.insertPlan(tx, plan(caseId, ['2026-04-01'])))).rejects.toThrow(/payment_plans_one_active_per_case/);

      await ctx.tx((tx) => sut.completePlan(tx, p.id, at));
      expect(await ctx.tx((tx) => sut.activePlan(tx, caseId))).toBeUndefined();
      expect(await ctx.tx((tx) => sut.breakPlan(tx, p.id, at, '2027-01-01'))).toBeUndefined();
    });

    it('payInstalments marks the instalments the payments since the plan began cover, and answers how many are still due', async () => {
      const { caseId } = await newCase(ctx);
      const p = await insertPlan(plan(caseId, ['2026-04-01', '2026-05-01', '2026-06-01']));

      expect(await ctx.tx((tx) => sut.payInstalments(tx, p.id, 9_999n))).toBe(3);
      expect(await ctx.tx((tx) => sut.payInstalments(tx, p.id, 20_000n))).toBe(1);
      expect(await ctx.tx((tx) => sut.payInstalments(tx, p.id, 29_999n))).toBe(1);
      expect(await ctx.tx((tx) => sut.payInstalments(tx, p.id, 30_000n))).toBe(0);
      expect(await ctx.tx((tx) => sut.payInstalments(tx, randomUUID(), 30_000n))).toBe(0);
    });

    it('breakPlan breaks an active plan once and marks missed only its unpaid instalments due before today', async () => {
      const { caseId } = await newCase(ctx);
      const p = await insertPlan(plan(caseId, ['2026-04-01', '2026-04-15', '2026-05-01', '2026-06-01'], 2_000n));
      await ctx.tx((tx) => sut.payInstalments(tx, p.id, 10_000n));

      expect(await ctx.tx((tx) => sut.breakPlan(tx, p.id, at, '2026-05-01'))).toEqual({
        paidBeforeMinor: 2_000n,
        missed: [{ seq: 2, due_date: '2026-04-15' }],
      });

      expect(await ctx.tx((tx) => sut.activePlan(tx, caseId))).toBeUndefined();
      expect(await ctx.tx((tx) => sut.breakPlan(tx, p.id, at, '2026-07-01'))).toBeUndefined();
      // The instalments due today and later stay due; the missed one is no longer due.
      expect(await ctx.tx((tx) => sut.payInstalments(tx, p.id, 0n))).toBe(2);
    });
  });

  describe('due', () => {
    // Three days of grace; 22:00 UTC on 13 April is midnight in Berlin (CEST), 18:00 in New York (EDT).
    const grace = 3 * 24 * 3600;
    const now = new Date('2026-04-13T22:00:00Z');
    const before = (date: Date) => new Date(date.getTime() - 1);
    const byId = <T extends { caseId: string }>(items: T[]): T[] => [...items].sort((x, y) => x.caseId.localeCompare(y.caseId));
    const caseIds = async (n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push((await newCase(ctx)).caseId);
      return ids;
    };

    it("lists open promises past their pause and active plans with an instalment due more than the grace ago on the debtor's calendar", async () => {
      const [a, b, c, d, e, f, g] = (await caseIds(7)) as [string, string, string, string, string, string, string];
      const newYork = (await newCase(ctx, { debtor: { timezone: 'America/New_York' } })).caseId;
      const duePromise = await insertPromise(promise(a, { pauseUntil: now }));
      const laterPromise = await insertPromise(promise(b, { pauseUntil: new Date(now.getTime() + 1) }));
      await insertPromise(promise(c, { pauseUntil: before(now) }));
      await ctx.tx((tx) => sut.cancelOpenPromises(tx, c, at));
      const keptPromise = await insertPromise(promise(d, { pauseUntil: before(now), amountMinor: 1_000n, paidBeforeMinor: 0n }));
      await ctx.tx((tx) => sut.keepPaidPromises(tx, d, 1_000n, at));
      const duePlan = await insertPlan(plan(e, ['2026-04-10', '2026-05-10']));
      const newYorkPlan = await insertPlan(plan(newYork, ['2026-04-10', '2026-05-10']));
      const paidPlan = await insertPlan(plan(f, ['2026-04-01', '2026-05-01']));
      await ctx.tx((tx) => sut.payInstalments(tx, paidPlan.id, 10_000n));
      const brokenPlan = await insertPlan(plan(g, ['2026-04-01']));
      await ctx.tx((tx) => sut.breakPlan(tx, brokenPlan.id, at, '2026-03-10'));
      const mine = new Set([a, b, c, d, e, f, g, newYork]);
      const ours = async (when: Date) => byId((await sut.due(when, grace, 1_000)).filter((item) => mine.has(item.caseId)));

      expect(await ours(now)).toEqual(
        byId([
          { caseId: a, kind: 'promise', id: duePromise.id },
          { caseId: e, kind: 'plan', id: duePlan.id },
        ]),
      );
      expect(await ours(before(now))).toEqual([]);
      // New York's instalment day ends six hours after Berlin's.
      expect(await ours(new Date('2026-04-14T04:00:00Z'))).toEqual(
        byId([
          { caseId: a, kind: 'promise', id: duePromise.id },
          { caseId: b, kind: 'promise', id: laterPromise.id },
          { caseId: e, kind: 'plan', id: duePlan.id },
          { caseId: newYork, kind: 'plan', id: newYorkPlan.id },
        ]),
      );
      expect((await ours(new Date('2027-01-01T00:00:00Z'))).map((item) => item.id)).not.toContain(keptPromise.id);
    });

    it("leaves out a closed case's commitments: there is no ladder left to resume", async () => {
      const [open, cancelled] = [await newCase(ctx), await newCase(ctx)];
      const kept = await insertPromise(promise(open.caseId, { pauseUntil: before(now) }));
      const closed = await insertPromise(promise(cancelled.caseId, { pauseUntil: before(now) }));
      const closedPlan = await insertPlan(plan(cancelled.caseId, ['2026-04-01']));
      await ctx.tx((tx) => ctx.get(CaseRepository).close(tx, cancelled.caseId, 'cancelled', at));

      const ids = (await sut.due(now, grace, 1_000)).map((item) => item.id);
      expect(ids).toContain(kept.id);
      expect(ids).not.toContain(closed.id);
      expect(ids).not.toContain(closedPlan.id);
    });

    it('answers at most limit commitments', async () => {
      const [a, b] = [await newCase(ctx), await newCase(ctx)];
      await insertPromise(promise(a.caseId, { pauseUntil: at }));
      await insertPromise(promise(b.caseId, { pauseUntil: at }));

      expect((await sut.due(at, 0, 1_000)).length).toBeGreaterThanOrEqual(2);
      expect(await sut.due(at, 0, 1)).toHaveLength(1);
    });
  });
});
