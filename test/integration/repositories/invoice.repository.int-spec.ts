import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CaseRepository } from '../../../src/cases/case.repository';
import { DebtorRepository } from '../../../src/cases/debtor.repository';
import { type InvoiceDetails, InvoiceRepository } from '../../../src/cases/invoice.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

type Overrides = NonNullable<Parameters<typeof newCase>[1]>;

describe('InvoiceRepository', () => {
  let ctx: IntegrationContext;
  let sut: InvoiceRepository;
  let cases: CaseRepository;
  const at = new Date('2026-03-10T08:00:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('invoice_repo');
    sut = ctx.get(InvoiceRepository);
    cases = ctx.get(CaseRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  const debtorIdOf = (externalId: string) => ctx.tx(async (tx) => (await ctx.get(DebtorRepository).idOf(tx, externalId))!);
  const limitationOf = (caseId: string) => ctx.tx(async (tx) => (await sut.lockLimitation(tx, caseId))!);

  const details = (given: Pick<InvoiceDetails, 'externalId' | 'debtorId'> & Partial<InvoiceDetails>): InvoiceDetails => ({
    id: randomUUID(),
    contractRef: 'CTR-GIVEN',
    currency: 'EUR',
    amountDueMinor: 125_000n,
    dueDate: '2026-03-01',
    dueAt: new Date('2026-02-28T23:00:00Z'),
    lateFeeRatePerDay: null,
    contractDate: null,
    jurisdiction: null,
    limitationDate: '2029-03-01',
    paymentAllocation: null,
    ...given,
  });

  /** An open case whose invoice's limitation date is `date`. */
  async function caseLimitedOn(date: string, overrides: Overrides = {}) {
    const opened = await newCase(ctx, overrides);
    const { id } = await limitationOf(opened.caseId);
    await ctx.tx((tx) => sut.setLimitationDate(tx, id, date, at));
    return { caseId: opened.caseId, externalId: opened.data.invoice.externalId, invoiceId: id };
  }

  const byCase = <T extends { caseId: string }>(rows: T[]): T[] => [...rows].sort((a, b) => a.caseId.localeCompare(b.caseId));

  describe('upsertMany', () => {
    it('answers each external id of a batch with its row id: a new invoice gets the id it was given, a known one keeps its own', async () => {
      const known = await newCase(ctx);
      const knownId = (await limitationOf(known.caseId)).id;
      const debtorId = await debtorIdOf(known.data.debtor.externalId);
      const fresh = details({ externalId: `INV-NEW-${randomUUID().slice(0, 8)}`, debtorId, limitationDate: '2031-06-30' });
      const reported = details({ externalId: known.data.invoice.externalId, debtorId });

      const ids = await ctx.tx((tx) => sut.upsertMany(tx, [fresh, reported], at));

      expect(ids).toEqual(
        new Map([
          [fresh.externalId, fresh.id],
          [known.data.invoice.externalId, knownId],
        ]),
      );
      // A case opened for the new invoice finds the row inserted above: its id, and its later limitation date.
      const later = await newCase(ctx, { invoice: { externalId: fresh.externalId }, debtor: { externalId: known.data.debtor.externalId } });
      expect(await limitationOf(later.caseId)).toEqual({ id: fresh.id, limitationDate: '2031-06-30', jurisdiction: null, timezone: 'Europe/Berlin' });
    });

    it('an invoice reported again keeps its id, takes the new details, and never moves its limitation date earlier', async () => {
      const { caseId, data } = await newCase(ctx);
      const before = await limitationOf(caseId);
      expect(before.limitationDate).toBe('2029-03-01');
      const debtorId = await debtorIdOf(data.debtor.externalId);
      const again = details({
        externalId: data.invoice.externalId,
        debtorId,
        contractRef: 'CTR-CHANGED',
        dueDate: '2026-03-05',
        dueAt: new Date('2026-03-04T23:00:00Z'),
        contractDate: '2025-01-15',
        lateFeeRatePerDay: '0.0004',
        jurisdiction: 'DE',
        limitationDate: '2028-12-31',
        paymentAllocation: ['principal', 'costs', 'interest'],
      });

      const ids = await ctx.tx((tx) => sut.upsertMany(tx, [again], at));

      expect(ids.get(data.invoice.externalId)).toBe(before.id);
      expect(await limitationOf(caseId)).toEqual({ id: before.id, limitationDate: '2029-03-01', jurisdiction: 'DE', timezone: 'Europe/Berlin' });
      const terms = (await ctx.tx((tx) => cases.lockTerms(tx, caseId)))!;
      expect(terms).toMatchObject({
        contractRef: 'CTR-CHANGED',
        dueDate: '2026-03-05',
        dueAt: new Date('2026-03-04T23:00:00Z'),
        contractDate: '2025-01-15',
        jurisdiction: 'DE',
        money: { invoiceRatePerDay: '0.00040000', allocation: { contract: ['principal', 'costs', 'interest'], jurisdiction: 'DE' } },
      });

      // A report without an allocation order clears the one the contract stated before.
      await ctx.tx((tx) => sut.upsertMany(tx, [{ ...again, id: randomUUID(), limitationDate: '2030-06-30', paymentAllocation: null }], at));
      expect(await limitationOf(caseId)).toMatchObject({ id: before.id, limitationDate: '2030-06-30' });
      expect((await cases.money(undefined, caseId))!.allocation.contract).toBeNull();
    });
  });

  describe('lockLimitation', () => {
    it("reads the case's invoice id, limitation date, jurisdiction and the debtor's zone; nothing for an unknown case", async () => {
      const { caseId } = await newCase(ctx, { debtor: { timezone: 'Asia/Shanghai', address: { country: 'cn' } } });
      const read = await limitationOf(caseId);
      expect(read).toEqual({ id: expect.any(String), limitationDate: '2029-03-01', jurisdiction: 'CN', timezone: 'Asia/Shanghai' });
      expect(await ctx.tx((tx) => sut.lockLimitation(tx, randomUUID()))).toBeUndefined();
    });

    it('holds a row lock on the invoice until the transaction ends', async () => {
      const { caseId } = await newCase(ctx);
      const db = ctx.get(DataSource);
      const grab = (id: string) => db.query('SELECT id FROM invoices WHERE id = $1 FOR UPDATE NOWAIT', [id]);
      const id = await ctx.tx(async (tx) => {
        const locked = (await sut.lockLimitation(tx, caseId))!;
        await expect(grab(locked.id)).rejects.toMatchObject({ driverError: { code: '55P03' } });
        return locked.id;
      });
      expect(await grab(id)).toEqual([{ id }]);
    });
  });

  describe('setLimitationDate', () => {
    it('sets the date the limitation clock reads, later or earlier', async () => {
      const { caseId } = await newCase(ctx);
      const { id } = await limitationOf(caseId);
      await ctx.tx((tx) => sut.setLimitationDate(tx, id, '2032-01-15', at));
      expect((await limitationOf(caseId)).limitationDate).toBe('2032-01-15');
      expect((await cases.get(caseId))!.limitationDate).toBe('2032-01-15');
      await ctx.tx((tx) => sut.setLimitationDate(tx, id, '2029-02-01', at));
      expect((await limitationOf(caseId)).limitationDate).toBe('2029-02-01');
    });
  });

  describe('markLimitationsExpiring', () => {
    // 01:30 on 1 June in Berlin, still 31 May in New York.
    const now = new Date('2035-05-31T23:30:00Z');

    it("marks open cases whose limitation date is within warnDays on the debtor's calendar, once per date", async () => {
      const edge = await caseLimitedOn('2035-06-11');
      const newYork = await caseLimitedOn('2035-06-11', { debtor: { timezone: 'America/New_York' } });
      const today = await caseLimitedOn('2035-06-01');
      await ctx.tx((tx) => cases.hold(tx, today.caseId, at));
      const closed = await caseLimitedOn('2035-06-05');
      await ctx.tx((tx) => cases.close(tx, closed.caseId, 'resolved', at));
      // Already passed: a negative number of days left.
      await caseLimitedOn('2035-05-31');
      const far = await caseLimitedOn('2035-06-12');

      const marked = await ctx.tx((tx) => sut.markLimitationsExpiring(tx, now, 10, 100));

      expect(byCase(marked)).toEqual(
        byCase([
          { caseId: edge.caseId, externalId: edge.externalId, limitationDate: '2035-06-11', daysLeft: 10 },
          { caseId: today.caseId, externalId: today.externalId, limitationDate: '2035-06-01', daysLeft: 0 },
        ]),
      );
      expect(await ctx.tx((tx) => sut.markLimitationsExpiring(tx, now, 10, 100))).toEqual([]);

      // A new limitation date is warned of again; so is New York's once its day comes within reach.
      await ctx.tx((tx) => sut.setLimitationDate(tx, today.invoiceId, '2035-06-08', at));
      expect(await ctx.tx((tx) => sut.markLimitationsExpiring(tx, now, 10, 100))).toEqual([
        { caseId: today.caseId, externalId: today.externalId, limitationDate: '2035-06-08', daysLeft: 7 },
      ]);
      expect(byCase(await ctx.tx((tx) => sut.markLimitationsExpiring(tx, now, 11, 100)))).toEqual(
        byCase([
          { caseId: newYork.caseId, externalId: newYork.externalId, limitationDate: '2035-06-11', daysLeft: 11 },
          { caseId: far.caseId, externalId: far.externalId, limitationDate: '2035-06-12', daysLeft: 11 },
        ]),
      );
    });

    it('marks at most limit cases per call; the next call takes the rest', async () => {
      const later = new Date('2037-01-01T12:00:00Z');
      const three = [await caseLimitedOn('2037-01-10'), await caseLimitedOn('2037-01-11'), await caseLimitedOn('2037-01-12')];

      const first = await ctx.tx((tx) => sut.markLimitationsExpiring(tx, later, 30, 2));
      const second = await ctx.tx((tx) => sut.markLimitationsExpiring(tx, later, 30, 2));

      expect(first).toHaveLength(2);
      expect(second).toHaveLength(1);
      expect([...first, ...second].map((row) => row.caseId).sort()).toEqual(three.map((c) => c.caseId).sort());
      expect(await ctx.tx((tx) => sut.markLimitationsExpiring(tx, later, 30, 2))).toEqual([]);
    });
  });
});
