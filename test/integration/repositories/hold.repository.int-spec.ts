import { randomUUID } from 'node:crypto';
import { CaseRepository } from '../../../src/cases/case.repository';
import { HoldRepository } from '../../../src/cases/hold.repository';
import type { HoldKind } from '../../../src/domain/holds';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

describe('HoldRepository', () => {
  let ctx: IntegrationContext;
  let sut: HoldRepository;
  const at = new Date('2026-03-10T08:00:00Z');
  const minutes = (n: number) => new Date(at.getTime() + n * 60_000);

  beforeAll(async () => {
    ctx = await startIntegration('hold_repo');
    sut = ctx.get(HoldRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  /** Places holds of these kinds on the case, one minute apart; returns their ids in that order. */
  async function place(caseId: string, kinds: HoldKind[]): Promise<string[]> {
    const ids = kinds.map(() => randomUUID());
    await ctx.tx(async (tx) => {
      for (const [i, kind] of kinds.entries()) await sut.insert(tx, { id: ids[i]!, caseId, kind, reason: `${kind} reason`, at: minutes(i), by: 'operator-1' });
    });
    return ids;
  }

  const openKinds = async (caseId: string) => (await sut.ofCase(caseId)).filter((hold) => hold.releasedAt === null).map((hold) => hold.kind);

  describe('insert, get and ofCase', () => {
    it('places open holds; get reads one of the case, ofCase lists them in the order they were placed', async () => {
      const { caseId } = await newCase(ctx);
      const other = await newCase(ctx);
      const [manual, dispute] = (await place(caseId, ['manual', 'dispute'])) as [string, string];

      expect(await ctx.tx((tx) => sut.get(tx, caseId, dispute))).toEqual({ kind: 'dispute', releasedAt: null });
      expect(await ctx.tx((tx) => sut.get(tx, other.caseId, dispute))).toBeUndefined();
      expect(await ctx.tx((tx) => sut.get(tx, caseId, randomUUID()))).toBeUndefined();
      expect(await sut.ofCase(caseId)).toEqual([
        { id: manual, kind: 'manual', reason: 'manual reason', placedAt: minutes(0), placedBy: 'operator-1', releasedAt: null, releasedBy: null },
        { id: dispute, kind: 'dispute', reason: 'dispute reason', placedAt: minutes(1), placedBy: 'operator-1', releasedAt: null, releasedBy: null },
      ]);
      expect(await sut.ofCase(other.caseId)).toEqual([]);
    });
  });

  describe('release', () => {
    it('by hold ids releases the named open holds of the case and answers their ids; a released or foreign hold is left alone', async () => {
      const { caseId } = await newCase(ctx);
      const other = await newCase(ctx);
      const [first, second, third] = (await place(caseId, ['manual', 'manual', 'dispute'])) as [string, string, string];
      const [foreign] = (await place(other.caseId, ['manual'])) as [string];

      const released = await ctx.tx((tx) => sut.release(tx, caseId, { holdIds: [first, third, foreign] }, minutes(10), 'operator-2'));

      expect(released.sort()).toEqual([first, third].sort());
      expect(await ctx.tx((tx) => sut.get(tx, caseId, first))).toEqual({ kind: 'manual', releasedAt: minutes(10) });
      expect(await ctx.tx((tx) => sut.get(tx, caseId, second))).toEqual({ kind: 'manual', releasedAt: null });
      expect(await ctx.tx((tx) => sut.get(tx, other.caseId, foreign))).toEqual({ kind: 'manual', releasedAt: null });
      expect((await sut.ofCase(caseId)).find((hold) => hold.id === third)).toMatchObject({ releasedAt: minutes(10), releasedBy: 'operator-2' });

      expect(await ctx.tx((tx) => sut.release(tx, caseId, { holdIds: [first] }, minutes(20), 'operator-3'))).toEqual([]);
      expect((await sut.ofCase(caseId)).find((hold) => hold.id === first)).toMatchObject({ releasedAt: minutes(10), releasedBy: 'operator-2' });
    });

    it('by kinds releases the open holds of those kinds only', async () => {
      const { caseId } = await newCase(ctx);
      const [promise, manual, plan] = (await place(caseId, ['promise', 'manual', 'plan', 'cease-contact'])) as [string, string, string];

      const released = await ctx.tx((tx) => sut.release(tx, caseId, { kinds: ['promise', 'plan', 'dispute'] }, minutes(10), 'system'));

      expect(released.sort()).toEqual([promise, plan].sort());
      expect(await openKinds(caseId)).toEqual(['manual', 'cease-contact']);
      expect(await ctx.tx((tx) => sut.get(tx, caseId, manual))).toEqual({ kind: 'manual', releasedAt: null });
      expect(await ctx.tx((tx) => sut.release(tx, caseId, { kinds: ['promise'] }, minutes(20), 'system'))).toEqual([]);
    });

    it("'all' releases every open hold of the case and no other case's; earlier releases keep their time", async () => {
      const { caseId } = await newCase(ctx);
      const other = await newCase(ctx);
      const [early, manual, cease] = (await place(caseId, ['dispute', 'manual', 'cease-contact'])) as [string, string, string];
      await place(other.caseId, ['manual']);
      await ctx.tx((tx) => sut.release(tx, caseId, { holdIds: [early] }, minutes(5), 'operator-1'));

      const released = await ctx.tx((tx) => sut.release(tx, caseId, 'all', minutes(30), 'closing'));

      expect(released.sort()).toEqual([manual, cease].sort());
      expect((await sut.ofCase(caseId)).map((hold) => [hold.kind, hold.releasedAt, hold.releasedBy])).toEqual([
        ['dispute', minutes(5), 'operator-1'],
        ['manual', minutes(30), 'closing'],
        ['cease-contact', minutes(30), 'closing'],
      ]);
      expect(await openKinds(other.caseId)).toEqual(['manual']);
      expect(await ctx.tx((tx) => sut.release(tx, caseId, 'all', minutes(40), 'closing'))).toEqual([]);
    });
  });

  describe('pausing', () => {
    it('counts the open holds that pause the case (not cease-contact, not released) and reads since when it is on hold', async () => {
      const { caseId } = await newCase(ctx);
      const cases = ctx.get(CaseRepository);
      const pausing = () => ctx.tx((tx) => sut.pausing(tx, caseId));
      expect(await pausing()).toEqual({ remaining: 0, heldSince: null });

      await place(caseId, ['cease-contact']);
      expect(await pausing()).toEqual({ remaining: 0, heldSince: null });

      const [manual] = (await place(caseId, ['manual', 'dispute', 'deceased'])) as [string];
      await ctx.tx((tx) => cases.hold(tx, caseId, minutes(3)));
      expect(await pausing()).toEqual({ remaining: 3, heldSince: minutes(3) });

      await ctx.tx((tx) => sut.release(tx, caseId, { holdIds: [manual] }, minutes(4), 'operator-1'));
      expect(await pausing()).toEqual({ remaining: 2, heldSince: minutes(3) });

      await ctx.tx((tx) => sut.release(tx, caseId, { kinds: ['dispute', 'deceased'] }, minutes(5), 'operator-1'));
      await ctx.tx((tx) => cases.resume(tx, caseId, minutes(5)));
      expect(await pausing()).toEqual({ remaining: 0, heldSince: null });
    });

    it('answers no pausing holds for an unknown case', async () => {
      expect(await ctx.tx((tx) => sut.pausing(tx, randomUUID()))).toEqual({ remaining: 0, heldSince: null });
    });
  });
});
