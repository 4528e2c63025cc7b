import { randomUUID } from 'node:crypto';
import { CaseRepository } from '../../../src/cases/case.repository';
import { GuarantorRepository, type NewGuarantor } from '../../../src/cases/guarantor.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

describe('GuarantorRepository', () => {
  let ctx: IntegrationContext;
  let sut: GuarantorRepository;
  let cases: CaseRepository;
  const at = new Date('2026-03-10T08:00:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('guarantor_repo');
    sut = ctx.get(GuarantorRepository);
    cases = ctx.get(CaseRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  const guarantor = (caseId: string, externalId: string, guaranteeEndsOn: string, more: Partial<NewGuarantor> = {}): NewGuarantor => ({
    id: randomUUID(),
    caseId,
    externalId,
    name: `Guarantor ${externalId}`,
    email: null,
    address: null,
    guaranteeEndsOn,
    type: 'general',
    ...more,
  });

  const insert = (guarantors: NewGuarantor[]) => ctx.tx((tx) => sut.insertMany(tx, guarantors, at));

  describe('insertMany, ofCase and recordsOfCase', () => {
    it("inserts a case's guarantors; ofCase reads their contact details and recordsOfCase their notice state", async () => {
      const { caseId } = await newCase(ctx);
      const other = await newCase(ctx);
      const first = guarantor(caseId, 'G-1', '2026-09-01', {
        name: 'Gao Guarantor',
        email: 'gao@example.test',
        address: { street: '1 Nanjing Road', city: 'Shanghai', country: 'CN' },
      });
      const second = guarantor(caseId, 'G-2', '2027-03-01', { type: 'joint' });
      await insert([first, second, guarantor(other.caseId, 'G-9', '2026-09-01')]);

      const contacts = [
        {
          id: first.id,
          externalId: 'G-1',
          name: 'Gao Guarantor',
          email: 'gao@example.test',
          address: first.address,
          guaranteeEndsOn: '2026-09-01',
          type: 'general',
        },
        { id: second.id, externalId: 'G-2', name: 'Guarantor G-2', email: null, address: null, guaranteeEndsOn: '2027-03-01', type: 'joint' },
      ];
      expect(await sut.ofCase(undefined, caseId)).toEqual(contacts);
      expect(await ctx.tx((tx) => sut.ofCase(tx, caseId))).toEqual(contacts);
      expect(await sut.recordsOfCase(caseId)).toEqual([
        { id: first.id, externalId: 'G-1', name: 'Gao Guarantor', type: 'general', guaranteeEndsOn: '2026-09-01', notifiedOn: null, warnedAt: null },
        { id: second.id, externalId: 'G-2', name: 'Guarantor G-2', type: 'joint', guaranteeEndsOn: '2027-03-01', notifiedOn: null, warnedAt: null },
      ]);
      expect((await sut.recordsOfCase(other.caseId)).map((g) => g.externalId)).toEqual(['G-9']);
    });

    it('an empty list inserts nothing and does not fail', async () => {
      const { caseId } = await newCase(ctx, { guarantors: [{ externalId: 'G-ONLY', name: 'Only Guarantor', guaranteeType: 'general' }] });
      await expect(ctx.tx((tx) => sut.insertMany(tx, [], at))).resolves.toBeUndefined();
      expect((await sut.recordsOfCase(caseId)).map((g) => g.externalId)).toEqual(['G-ONLY']);
      expect(await sut.ofCase(undefined, (await newCase(ctx)).caseId)).toEqual([]);
    });

    it('guarantors named in the overdue event are stored with their guarantee type and period counted from the due date', async () => {
      const { caseId } = await newCase(ctx, {
        guarantors: [
          { externalId: 'G-A', name: 'Agreed Period', email: 'agreed@example.test', guaranteePeriod: 'P1Y', guaranteeType: 'joint' },
          { externalId: 'G-B', name: 'Default Period', address: { city: 'Berlin' }, guaranteeType: 'general' },
        ],
      });
      expect(await sut.ofCase(undefined, caseId)).toEqual([
        {
          id: expect.any(String),
          externalId: 'G-A',
          name: 'Agreed Period',
          email: 'agreed@example.test',
          address: null,
          guaranteeEndsOn: '2027-03-01',
          type: 'joint',
        },
        {
          id: expect.any(String),
          externalId: 'G-B',
          name: 'Default Period',
          email: null,
          address: { city: 'Berlin' },
          guaranteeEndsOn: '2026-09-01',
          type: 'general',
        },
      ]);
    });
  });

  describe('markNotified', () => {
    it("records the day of the first delivered notice; a later notice does not change it, and other guarantors' stay unset", async () => {
      const { caseId } = await newCase(ctx);
      const [notified, untouched] = [guarantor(caseId, 'G-N1', '2026-09-01'), guarantor(caseId, 'G-N2', '2026-09-01')];
      await insert([notified, untouched]);

      await ctx.tx((tx) => sut.markNotified(tx, notified.id, '2026-05-04'));
      await ctx.tx((tx) => sut.markNotified(tx, notified.id, '2026-06-20'));

      expect((await sut.recordsOfCase(caseId)).map((g) => [g.externalId, g.notifiedOn])).toEqual([
        ['G-N1', '2026-05-04'],
        ['G-N2', null],
      ]);
    });
  });

  describe('markExpiring', () => {
    const byId = <T extends { id: string }>(rows: T[]): T[] => [...rows].sort((a, b) => a.id.localeCompare(b.id));

    it("marks unwarned guarantees of open cases that end within warnDays on the debtor's calendar, once", async () => {
      // 00:30 on 20 February in Berlin, still 19 February in New York.
      const now = new Date('2028-02-19T23:30:00Z');
      const berlin = await newCase(ctx);
      const newYork = await newCase(ctx, { debtor: { timezone: 'America/New_York' } });
      const held = await newCase(ctx);
      await ctx.tx((tx) => cases.hold(tx, held.caseId, at));
      const closed = await newCase(ctx);
      await ctx.tx((tx) => cases.close(tx, closed.caseId, 'cancelled', at));
      const edge = guarantor(berlin.caseId, 'X-EDGE', '2028-03-01');
      const today = guarantor(berlin.caseId, 'X-TODAY', '2028-02-20', { type: 'joint' });
      const onHold = guarantor(held.caseId, 'X-HELD', '2028-02-25');
      const notifiedJoint = guarantor(berlin.caseId, 'X-NOTIFIED-JOINT', '2028-02-25', { type: 'joint' });
      const notifiedGeneral = guarantor(berlin.caseId, 'X-NOTIFIED-GENERAL', '2028-02-25', { type: 'general' });
      const ny = guarantor(newYork.caseId, 'X-NY', '2028-03-01');
      const far = guarantor(berlin.caseId, 'X-FAR', '2028-03-02', { type: 'joint' });
      await insert([
        edge,
        today,
        onHold,
        notifiedJoint,
        notifiedGeneral,
        ny,
        far,
        guarantor(berlin.caseId, 'X-ENDED', '2028-02-19'),
        guarantor(closed.caseId, 'X-CLOSED', '2028-02-25'),
      ]);
      await ctx.tx(async (tx) => {
        await sut.markNotified(tx, notifiedJoint.id, '2028-01-05');
        await sut.markNotified(tx, notifiedGeneral.id, '2028-01-05');
      });

      const warned = await ctx.tx((tx) => sut.markExpiring(tx, now, 10, 100));

      // A delivered notice preserves a joint guarantee; a general one still needs the creditor to sue, so it is still warned.
      expect(byId(warned)).toEqual(
        byId([
          { id: edge.id, caseId: berlin.caseId, externalId: 'X-EDGE', type: 'general', endsOn: '2028-03-01', daysLeft: 10 },
          { id: today.id, caseId: berlin.caseId, externalId: 'X-TODAY', type: 'joint', endsOn: '2028-02-20', daysLeft: 0 },
          { id: onHold.id, caseId: held.caseId, externalId: 'X-HELD', type: 'general', endsOn: '2028-02-25', daysLeft: 5 },
          { id: notifiedGeneral.id, caseId: berlin.caseId, externalId: 'X-NOTIFIED-GENERAL', type: 'general', endsOn: '2028-02-25', daysLeft: 5 },
        ]),
      );
      expect((await sut.recordsOfCase(berlin.caseId)).map((g) => [g.externalId, g.notifiedOn, g.warnedAt])).toEqual([
        ['X-EDGE', null, now],
        ['X-ENDED', null, null],
        ['X-FAR', null, null],
        ['X-NOTIFIED-GENERAL', '2028-01-05', now],
        ['X-NOTIFIED-JOINT', '2028-01-05', null],
        ['X-TODAY', null, now],
      ]);
      expect(await ctx.tx((tx) => sut.markExpiring(tx, now, 10, 100))).toEqual([]);
      // New York's guarantee ends a day further away on its calendar.
      const further = await ctx.tx((tx) => sut.markExpiring(tx, now, 11, 100));
      expect(byId(further)).toEqual(
        byId([
          { id: ny.id, caseId: newYork.caseId, externalId: 'X-NY', type: 'general', endsOn: '2028-03-01', daysLeft: 11 },
          { id: far.id, caseId: berlin.caseId, externalId: 'X-FAR', type: 'joint', endsOn: '2028-03-02', daysLeft: 11 },
        ]),
      );
      // The notified joint guarantee is never warned, however close its end.
      expect(await ctx.tx((tx) => sut.markExpiring(tx, now, 30, 100))).toEqual([]);
    });

    it('marks at most limit guarantees per call; the next call takes the rest', async () => {
      const now = new Date('2030-01-01T12:00:00Z');
      const { caseId } = await newCase(ctx);
      const three = [guarantor(caseId, 'L-1', '2030-01-10'), guarantor(caseId, 'L-2', '2030-01-11'), guarantor(caseId, 'L-3', '2030-01-12')];
      await insert(three);

      const first = await ctx.tx((tx) => sut.markExpiring(tx, now, 30, 2));
      const second = await ctx.tx((tx) => sut.markExpiring(tx, now, 30, 2));

      expect(first).toHaveLength(2);
      expect(second).toHaveLength(1);
      expect([...first, ...second].map((g) => g.id).sort()).toEqual(three.map((g) => g.id).sort());
      expect(await ctx.tx((tx) => sut.markExpiring(tx, now, 30, 2))).toEqual([]);
    });
  });
});
