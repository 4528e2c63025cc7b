import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CaseRepository } from '../../../src/cases/case.repository';
import { type DebtorDetails, DebtorRepository } from '../../../src/cases/debtor.repository';
import { StepRepository } from '../../../src/scheduling/step.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

const UNKNOWN = '00000000-0000-0000-0000-000000000000';
const DEFAULTS = { locale: 'zh-CN', timezone: 'America/New_York' };

describe('DebtorRepository', () => {
  let ctx: IntegrationContext;
  let sut: DebtorRepository;
  const at = new Date('2026-03-10T08:00:00Z');
  const later = new Date('2026-03-11T09:30:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('debtor_repo');
    sut = ctx.get(DebtorRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  const ref = () => `DEB-${randomUUID().slice(0, 8)}`;

  /** A debtor with a case, so its stored details can be read back through the case and step repositories. */
  async function debtorWithCase(debtor: Partial<DebtorDetails> = {}) {
    const opened = await newCase(ctx, { debtor });
    const id = (await ctx.tx((tx) => sut.idOf(tx, opened.data.debtor.externalId)))!;
    return { ...opened, id, externalId: opened.data.debtor.externalId };
  }

  /** What the repositories show of a debtor: through the case terms and the runnable step. */
  async function stored(caseId: string, stepId: string) {
    return ctx.tx(async (tx) => {
      const terms = (await ctx.get(CaseRepository).lockTerms(tx, caseId))!;
      const step = (await ctx.get(StepRepository).lockForRun(tx, stepId))!;
      return {
        id: terms.debtor.id,
        name: terms.debtor.name,
        email: terms.debtor.email,
        phone: step.debtor.phone,
        address: terms.debtor.address,
        locale: terms.debtor.locale,
        timezone: terms.timezone,
        unsubscribeToken: step.debtor.unsubscribeToken,
        flags: { ceaseContact: step.debtor.ceaseContact, deceased: step.debtor.deceased, bankrupt: step.debtor.bankrupt },
      };
    });
  }

  /** Whether another session could not lock the debtor row right now (probed with SKIP LOCKED). */
  async function lockedElsewhere(id: string): Promise<boolean> {
    const free: unknown[] = await ctx.get(DataSource).query('SELECT id FROM debtors WHERE id = $1 FOR UPDATE SKIP LOCKED', [id]);
    return free.length === 0;
  }

  describe('upsertMany', () => {
    it('inserts new debtors, one row each, with the default locale and zone where the event states none', async () => {
      const [stated, bare] = [ref(), ref()];
      const rows = await ctx.tx((tx) =>
        sut.upsertMany(
          tx,
          [
            { externalId: stated, name: 'Stated', email: 'stated@example.test', locale: 'en', timezone: 'Europe/Lisbon' },
            { externalId: bare, name: 'Bare' },
          ],
          DEFAULTS,
          at,
        ),
      );
      expect(rows).toHaveLength(2);
      const byRef = new Map(rows.map((row) => [row.external_id, row]));
      expect(byRef.get(stated)).toEqual({ id: expect.any(String), external_id: stated, timezone: 'Europe/Lisbon', wilful: false });
      expect(byRef.get(bare)).toEqual({ id: expect.any(String), external_id: bare, timezone: 'America/New_York', wilful: false });
      expect(await ctx.tx((tx) => sut.idOf(tx, stated))).toBe(byRef.get(stated)!.id);
      expect(await ctx.tx((tx) => sut.idOf(tx, bare))).toBe(byRef.get(bare)!.id);

      // A case opened for the bare debtor (its event again without locale or zone) shows what the insert stored.
      const opened = await newCase(ctx, { debtor: { externalId: bare, name: 'Bare', email: undefined, locale: undefined, timezone: undefined } });
      expect(await stored(opened.caseId, opened.stepIds[0]!)).toMatchObject({
        id: byRef.get(bare)!.id,
        name: 'Bare',
        email: null,
        phone: null,
        address: null,
        locale: 'zh-CN',
        timezone: 'America/New_York',
        flags: { ceaseContact: false, deceased: false, bankrupt: false },
      });
    });

    it('refreshes a known debtor: given details replace the stored ones, and locale and zone stay when the event gives none', async () => {
      const address = { street: '1 Main St', city: 'Berlin', country: 'DE' };
      const debtor = await debtorWithCase({ name: 'Old Name', phone: '+49 151 1234567', address, locale: 'en', timezone: 'Europe/Berlin' });
      const before = await stored(debtor.caseId, debtor.stepIds[0]!);
      const rows = await ctx.tx((tx) => sut.upsertMany(tx, [{ externalId: debtor.externalId, name: 'New Name' }], DEFAULTS, later));
      expect(rows).toEqual([{ id: debtor.id, external_id: debtor.externalId, timezone: 'Europe/Berlin', wilful: false }]);
      expect(await stored(debtor.caseId, debtor.stepIds[0]!)).toEqual({ ...before, name: 'New Name' });
    });

    it('refreshes a known debtor: a locale, zone and contact details the event gives replace the stored ones', async () => {
      const debtor = await debtorWithCase({ locale: 'en', timezone: 'Europe/Berlin', phone: '+49 151 1234567' });
      const before = await stored(debtor.caseId, debtor.stepIds[0]!);
      const moved = {
        name: 'Moved',
        email: 'moved@example.test',
        phone: '+351 912 345 678',
        address: { street: '9 Rua Nova', country: 'PT' },
        locale: 'zh-CN',
        timezone: 'Europe/Lisbon',
      };
      const rows = await ctx.tx((tx) => sut.upsertMany(tx, [{ externalId: debtor.externalId, ...moved }], { locale: 'en', timezone: 'UTC' }, later));
      expect(rows).toEqual([{ id: debtor.id, external_id: debtor.externalId, timezone: 'Europe/Lisbon', wilful: false }]);
      expect(await stored(debtor.caseId, debtor.stepIds[0]!)).toEqual({ ...before, ...moved });
    });

    it('refreshes one debtor and inserts another in the same call, keeping the known one id and opt-out token', async () => {
      const known = await debtorWithCase({ timezone: 'Asia/Tokyo' });
      const { unsubscribeToken } = await stored(known.caseId, known.stepIds[0]!);
      const fresh = ref();
      const rows = await ctx.tx((tx) =>
        sut.upsertMany(
          tx,
          [
            { externalId: known.externalId, name: 'Known' },
            { externalId: fresh, name: 'Fresh', timezone: 'Australia/Sydney' },
          ],
          DEFAULTS,
          later,
        ),
      );
      const byRef = new Map(rows.map((row) => [row.external_id, row]));
      expect(byRef.get(known.externalId)).toEqual({ id: known.id, external_id: known.externalId, timezone: 'Asia/Tokyo', wilful: false });
      expect(byRef.get(fresh)).toMatchObject({ external_id: fresh, timezone: 'Australia/Sydney' });
      expect(byRef.get(fresh)!.id).not.toBe(known.id);
      expect(await ctx.tx((tx) => sut.idOfUnsubscribeToken(tx, unsubscribeToken))).toBe(known.id);
    });
  });

  describe('lookups', () => {
    it('idOf finds a debtor by external id, and nothing for an unknown one', async () => {
      const debtor = await debtorWithCase();
      expect(await ctx.tx((tx) => sut.idOf(tx, debtor.externalId))).toBe((await stored(debtor.caseId, debtor.stepIds[0]!)).id);
      expect(await ctx.tx((tx) => sut.idOf(tx, 'DEB-nobody'))).toBeUndefined();
    });

    it('idOfUnsubscribeToken finds the debtor an opt-out token names, with or without a transaction', async () => {
      const [a, b] = [await debtorWithCase(), await debtorWithCase()];
      const tokenA = (await stored(a.caseId, a.stepIds[0]!)).unsubscribeToken;
      const tokenB = (await stored(b.caseId, b.stepIds[0]!)).unsubscribeToken;
      expect(tokenA).not.toBe(tokenB);
      expect(await sut.idOfUnsubscribeToken(undefined, tokenA)).toBe(a.id);
      expect(await ctx.tx((tx) => sut.idOfUnsubscribeToken(tx, tokenB))).toBe(b.id);
      expect(await sut.idOfUnsubscribeToken(undefined, 'not-a-token')).toBeUndefined();
    });
  });

  describe('update', () => {
    it('changes only the given details', async () => {
      const address = { street: '1 Main St', country: 'DE' };
      const debtor = await debtorWithCase({ phone: '+49 151 1234567', address, locale: 'en', timezone: 'Europe/Berlin' });
      const before = await stored(debtor.caseId, debtor.stepIds[0]!);
      await ctx.tx((tx) => sut.update(tx, debtor.id, { name: 'Renamed', phone: '+49 160 7654321' }, later));
      expect(await stored(debtor.caseId, debtor.stepIds[0]!)).toEqual({ ...before, name: 'Renamed', phone: '+49 160 7654321' });

      const moved = { street: '2 Side St', city: 'Shanghai', country: 'CN' };
      await ctx.tx((tx) => sut.update(tx, debtor.id, { email: 'new@example.test', address: moved, locale: 'zh-CN', timezone: 'Asia/Shanghai' }, later));
      expect(await stored(debtor.caseId, debtor.stepIds[0]!)).toEqual({
        ...before,
        name: 'Renamed',
        phone: '+49 160 7654321',
        email: 'new@example.test',
        address: moved,
        locale: 'zh-CN',
        timezone: 'Asia/Shanghai',
      });
    });

    it('marks a debtor wilful and back, and changes nothing when no detail is given', async () => {
      const debtor = await debtorWithCase();
      const wilful = async () =>
        (await ctx.tx((tx) => sut.upsertMany(tx, [{ externalId: debtor.externalId, name: debtor.data.debtor.name }], DEFAULTS, later)))[0]!.wilful;
      expect(await wilful()).toBe(false);
      await ctx.tx((tx) => sut.update(tx, debtor.id, { wilful: true }, later));
      expect(await wilful()).toBe(true);
      const before = await stored(debtor.caseId, debtor.stepIds[0]!);
      await ctx.tx((tx) => sut.update(tx, debtor.id, {}, later));
      expect(await stored(debtor.caseId, debtor.stepIds[0]!)).toEqual(before);
      expect(await wilful()).toBe(true);
      await ctx.tx((tx) => sut.update(tx, debtor.id, { wilful: false }, later));
      expect(await wilful()).toBe(false);
    });
  });

  describe('flags', () => {
    it('lockFlags reads a new debtor flags, all off, and holds the debtor row until the transaction ends', async () => {
      const debtor = await debtorWithCase();
      await ctx.tx(async (tx) => {
        expect(await sut.lockFlags(tx, debtor.id)).toEqual({ 'cease-contact': false, deceased: false, bankrupt: false });
        expect(await lockedElsewhere(debtor.id)).toBe(true);
      });
      expect(await lockedElsewhere(debtor.id)).toBe(false);
    });

    it('lockFlags reads all flags off for an unknown debtor', async () => {
      expect(await ctx.tx((tx) => sut.lockFlags(tx, UNKNOWN))).toEqual({ 'cease-contact': false, deceased: false, bankrupt: false });
    });

    it('setFlags sets the given flags and leaves the others as they were', async () => {
      const debtor = await debtorWithCase();
      await ctx.tx((tx) => sut.setFlags(tx, debtor.id, { 'cease-contact': true, bankrupt: true }, at));
      expect(await ctx.tx((tx) => sut.lockFlags(tx, debtor.id))).toEqual({ 'cease-contact': true, deceased: false, bankrupt: true });
      await ctx.tx((tx) => sut.setFlags(tx, debtor.id, { bankrupt: false, deceased: true }, later));
      expect(await ctx.tx((tx) => sut.lockFlags(tx, debtor.id))).toEqual({ 'cease-contact': true, deceased: true, bankrupt: false });
      await ctx.tx((tx) => sut.setFlags(tx, debtor.id, {}, later));
      expect(await ctx.tx((tx) => sut.lockFlags(tx, debtor.id))).toEqual({ 'cease-contact': true, deceased: true, bankrupt: false });
      expect((await stored(debtor.caseId, debtor.stepIds[0]!)).flags).toEqual({ ceaseContact: true, deceased: true, bankrupt: false });
    });

    it('setFlags on one debtor leaves other debtors alone', async () => {
      const [flagged, other] = [await debtorWithCase(), await debtorWithCase()];
      await ctx.tx((tx) => sut.setFlags(tx, flagged.id, { deceased: true }, at));
      expect(await ctx.tx((tx) => sut.lockFlags(tx, other.id))).toEqual({ 'cease-contact': false, deceased: false, bankrupt: false });
    });
  });
});
