import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TouchRepository } from '../../../src/audit/touch.repository';
import { CaseRepository, type NewCase as NewCaseRow } from '../../../src/cases/case.repository';
import { DebtorRepository } from '../../../src/cases/debtor.repository';
import { FeeRepository } from '../../../src/cases/fee.repository';
import { InvoiceRepository } from '../../../src/cases/invoice.repository';
import { PaymentRepository } from '../../../src/cases/payment.repository';
import type { Tx } from '../../../src/database/transactions';
import { daysPastDue } from '../../../src/domain/ladder';
import type { LetterFields, LetterType } from '../../../src/domain/letter-fields';
import { newLetterFields } from '../../../src/letters/letter-fields.fixture';
import { LetterRepository } from '../../../src/letters/letter.repository';
import { PolicyRegistry } from '../../../src/policies/policy-registry.service';
import { chargeRow, newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

const UNKNOWN = '00000000-0000-0000-0000-000000000000';

describe('CaseRepository', () => {
  let ctx: IntegrationContext;
  let sut: CaseRepository;
  const at = new Date('2026-03-10T08:00:00Z');
  const later = new Date('2026-03-11T09:30:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('case_repo');
    sut = ctx.get(CaseRepository);
  });
  beforeEach(() => ctx.setNow(at));
  afterAll(() => ctx.close());

  /** Which of these rows another session could not lock right now (probed with SKIP LOCKED, nothing held afterwards). */
  async function lockedElsewhere(ids: readonly string[]): Promise<string[]> {
    const free: { id: string }[] = await ctx.get(DataSource).query('SELECT id FROM cases WHERE id = ANY($1::uuid[]) FOR UPDATE SKIP LOCKED', [ids]);
    return ids.filter((id) => !free.some((row) => row.id === id)).sort();
  }

  const debtorRef = () => `DEB-${randomUUID().slice(0, 8)}`;

  const letterFields = (number: string, type: LetterType): LetterFields => newLetterFields({ type, number, date: '2026-03-10' });

  const charge = (caseId: string, amountMinor: bigint, when: Date) => chargeRow(caseId, amountMinor, when);

  /** A payment recorded for the case; answers its external id (the id the case's money names it by). */
  async function pay(caseId: string, amountMinor: bigint, paidAt: string, tx?: Tx): Promise<string> {
    const externalId = `PAY-${randomUUID()}`;
    const payment = { caseId, externalId, amountMinor, currency: 'EUR', paidAt, at };
    const id = tx ? await ctx.get(PaymentRepository).insert(tx, payment) : await ctx.tx((t) => ctx.get(PaymentRepository).insert(t, payment));
    expect(id).toEqual(expect.any(String));
    return externalId;
  }

  describe('locks', () => {
    it('lock reads a case and holds its row until the transaction ends; an unknown id gives undefined', async () => {
      const { caseId } = await newCase(ctx, { invoice: { amountDue: '99.95', currency: 'USD' } });
      await ctx.tx(async (tx) => {
        expect(await sut.lock(tx, caseId)).toEqual({ id: caseId, status: 'active', currency: 'USD', balanceMinor: 9995n });
        expect(await lockedElsewhere([caseId])).toEqual([caseId]);
        expect(await sut.lock(tx, UNKNOWN)).toBeUndefined();
      });
      expect(await lockedElsewhere([caseId])).toEqual([]);
    });

    it('lockCommitted reads the paid amount and the debtor zone under the case lock', async () => {
      const { caseId } = await newCase(ctx, { debtor: { timezone: 'Asia/Shanghai' } });
      await ctx.tx((tx) => sut.applyPayment(tx, caseId, 100_000n, 25_000n, at));
      await ctx.tx(async (tx) => {
        expect(await sut.lockCommitted(tx, caseId)).toEqual({
          id: caseId,
          status: 'active',
          currency: 'EUR',
          balanceMinor: 100_000n,
          paidMinor: 25_000n,
          timezone: 'Asia/Shanghai',
        });
        expect(await lockedElsewhere([caseId])).toEqual([caseId]);
        expect(await sut.lockCommitted(tx, UNKNOWN)).toBeUndefined();
      });
    });

    it('lockOpenOfInvoice finds and locks the active or held case of an invoice, and nothing once it is closed', async () => {
      const { caseId, data } = await newCase(ctx);
      const invoice = data.invoice.externalId;
      await ctx.tx(async (tx) => {
        expect(await sut.lockOpenOfInvoice(tx, invoice)).toEqual({
          id: caseId,
          status: 'active',
          currency: 'EUR',
          balanceMinor: 125_000n,
          paidMinor: 0n,
          timezone: 'Europe/Berlin',
        });
        expect(await lockedElsewhere([caseId])).toEqual([caseId]);
      });
      await ctx.tx((tx) => sut.hold(tx, caseId, at));
      expect(await ctx.tx((tx) => sut.lockOpenOfInvoice(tx, invoice))).toMatchObject({ id: caseId, status: 'on_hold' });
      await ctx.tx((tx) => sut.close(tx, caseId, 'cancelled', at));
      expect(await ctx.tx((tx) => sut.lockOpenOfInvoice(tx, invoice))).toBeUndefined();
      expect(await ctx.tx((tx) => sut.lockOpenOfInvoice(tx, 'INV-nobody'))).toBeUndefined();
    });

    it('lockTerms reads amounts, invoice, debtor and the money of a case under its lock', async () => {
      const address = { street: '1 Main St', city: 'Berlin', country: 'DE' };
      const { caseId, data } = await newCase(ctx, {
        segment: 'letters',
        invoice: {
          amountDue: '400.00',
          contractRef: 'CTR-terms',
          contractDate: '2025-01-15',
          lateFeeRatePerDay: '0.0005',
          dueDate: '2026-03-01',
          paymentAllocation: ['principal', 'interest', 'costs'],
        },
        debtor: { name: 'Bo Terms', address, locale: 'zh-CN' },
      });
      await ctx.tx((tx) => sut.applyPayment(tx, caseId, 30_000n, 10_000n, at));
      const payment = await pay(caseId, 10_000n, '2026-03-09T12:00:00Z');
      await ctx.tx((tx) => ctx.get(FeeRepository).insert(tx, charge(caseId, 1_500n, at)));
      const debtorId = await ctx.tx((tx) => ctx.get(DebtorRepository).idOf(tx, data.debtor.externalId));
      await ctx.tx(async (tx) => {
        expect(await sut.lockTerms(tx, caseId)).toEqual({
          id: caseId,
          status: 'active',
          currency: 'EUR',
          principalMinor: 40_000n,
          balanceMinor: 30_000n,
          contractStatus: 'active',
          invoiceRef: data.invoice.externalId,
          contractRef: 'CTR-terms',
          contractDate: '2025-01-15',
          dueDate: '2026-03-01',
          dueAt: new Date('2026-03-01T23:00:00Z'),
          timezone: 'Europe/Berlin',
          jurisdiction: 'DE',
          money: {
            currency: 'EUR',
            principalMinor: 40_000n,
            dueAt: new Date('2026-03-01T23:00:00Z'),
            timezone: 'Europe/Berlin',
            invoiceRatePerDay: '0.00050000',
            policyLateFee: { ratePerDay: '0.0004', capRatio: '0.2' },
            allocation: { contract: ['principal', 'interest', 'costs'], policy: null, jurisdiction: 'DE' },
            payments: [{ id: payment, paidAt: new Date('2026-03-09T12:00:00Z'), amountMinor: 10_000n }],
            charges: [{ at, amountMinor: 1_500n }],
          },
          debtor: { id: debtorId!, name: 'Bo Terms', email: data.debtor.email!, address, locale: 'zh-CN' },
        });
        expect(await lockedElsewhere([caseId])).toEqual([caseId]);
        expect(await sut.lockTerms(tx, UNKNOWN)).toBeUndefined();
      });
    });

    it('lockTerms gives null fee terms, allocation orders and contract details when neither invoice nor policy states them', async () => {
      const { caseId } = await newCase(ctx, { invoice: { contractRef: undefined } });
      await ctx.tx((tx) => sut.terminateContract(tx, caseId, at));
      const terms = (await ctx.tx((tx) => sut.lockTerms(tx, caseId)))!;
      expect(terms).toMatchObject({
        contractStatus: 'terminated',
        contractRef: null,
        contractDate: null,
        jurisdiction: null,
        money: { invoiceRatePerDay: null, policyLateFee: null, allocation: { contract: null, policy: null, jurisdiction: null }, payments: [], charges: [] },
      });
      expect(terms.debtor.address).toBeNull();
    });

    it('lockOpenOfDebtor locks only the open cases of the debtor, in id order', async () => {
      const externalId = debtorRef();
      const cases = [
        await newCase(ctx, { debtor: { externalId } }),
        await newCase(ctx, { debtor: { externalId } }),
        await newCase(ctx, { debtor: { externalId } }),
      ];
      const [held, closed] = cases as [(typeof cases)[number], (typeof cases)[number]];
      const other = await newCase(ctx);
      await ctx.tx(async (tx) => {
        await sut.hold(tx, held.caseId, at);
        await sut.close(tx, closed.caseId, 'resolved', at);
      });
      const open = cases.filter((c) => c !== closed).map((c) => c.caseId);
      const debtorId = (await ctx.tx((tx) => ctx.get(DebtorRepository).idOf(tx, externalId)))!;
      await ctx.tx(async (tx) => {
        const locked = await sut.lockOpenOfDebtor(tx, debtorId);
        expect(locked.map((c) => c.id)).toEqual([...open].sort());
        expect(locked.find((c) => c.id === held.caseId)).toEqual({ id: held.caseId, status: 'on_hold', currency: 'EUR', balanceMinor: 125_000n });
        expect(await lockedElsewhere([...cases.map((c) => c.caseId), other.caseId])).toEqual([...open].sort());
        expect(await sut.lockOpenOfDebtor(tx, UNKNOWN)).toEqual([]);
      });
    });

    it('lockMany locks the given cases that exist, whatever their status, in id order', async () => {
      const [a, b, c] = [await newCase(ctx), await newCase(ctx), await newCase(ctx)];
      await ctx.tx((tx) => sut.close(tx, c.caseId, 'written_off', at));
      const wanted = [c.caseId, a.caseId, UNKNOWN];
      await ctx.tx(async (tx) => {
        const locked = await sut.lockMany(tx, wanted);
        expect(locked.map((row) => row.id)).toEqual([a.caseId, c.caseId].sort());
        expect(locked.find((row) => row.id === c.caseId)!.status).toBe('written_off');
        expect(await lockedElsewhere([a.caseId, b.caseId, c.caseId])).toEqual([a.caseId, c.caseId].sort());
        expect(await sut.lockMany(tx, [])).toEqual([]);
      });
    });
  });

  describe('lookups', () => {
    it('openOfInvoice names the open case of an invoice, held or active, and nothing when it is closed or unknown', async () => {
      const { caseId, data } = await newCase(ctx);
      const invoice = data.invoice.externalId;
      expect(await ctx.tx((tx) => sut.openOfInvoice(tx, invoice))).toBe(caseId);
      await ctx.tx((tx) => sut.hold(tx, caseId, at));
      expect(await ctx.tx((tx) => sut.openOfInvoice(tx, invoice))).toBe(caseId);
      await ctx.tx((tx) => sut.close(tx, caseId, 'resolved', at));
      expect(await ctx.tx((tx) => sut.openOfInvoice(tx, invoice))).toBeUndefined();
      expect(await ctx.tx((tx) => sut.openOfInvoice(tx, 'INV-nobody'))).toBeUndefined();
      expect(await lockedElsewhere([caseId])).toEqual([]);
    });

    it('invoicesWithOpenCase tells which of the invoices have an open case', async () => {
      const [active, held, closed] = [await newCase(ctx), await newCase(ctx), await newCase(ctx)];
      await ctx.tx(async (tx) => {
        await sut.hold(tx, held.caseId, at);
        await sut.close(tx, closed.caseId, 'cancelled', at);
      });
      const refs = [active, held, closed].map((c) => c.data.invoice.externalId);
      const found = await ctx.tx((tx) => sut.invoicesWithOpenCase(tx, [...refs, 'INV-nobody']));
      expect([...found].sort()).toEqual([active.data.invoice.externalId, held.data.invoice.externalId].sort());
      expect(await ctx.tx((tx) => sut.invoicesWithOpenCase(tx, []))).toEqual(new Set());
    });

    it('debtorsWithCases tells which debtors had a case, closed ones included', async () => {
      const closed = await newCase(ctx);
      const open = await newCase(ctx);
      await ctx.tx((tx) => sut.close(tx, closed.caseId, 'resolved', at));
      const debtors = ctx.get(DebtorRepository);
      const [fresh] = await ctx.tx((tx) => debtors.upsertMany(tx, [{ externalId: debtorRef(), name: 'No Case' }], { locale: 'en', timezone: 'UTC' }, at));
      const ids = await ctx.tx(async (tx) => [
        (await debtors.idOf(tx, closed.data.debtor.externalId))!,
        (await debtors.idOf(tx, open.data.debtor.externalId))!,
        fresh!.id,
      ]);
      const found = await ctx.tx((tx) => sut.debtorsWithCases(tx, [...ids, UNKNOWN]));
      expect([...found].sort()).toEqual([ids[0]!, ids[1]!].sort());
    });

    it('exists tells whether a case exists', async () => {
      const { caseId } = await newCase(ctx);
      expect(await sut.exists(caseId)).toBe(true);
      expect(await sut.exists(UNKNOWN)).toBe(false);
    });

    it('get reads a case with its invoice, debtor and policy; an unknown id gives undefined', async () => {
      const { caseId, data } = await newCase(ctx, { invoice: { amountDue: '1250.00', dueDate: '2026-03-01' } });
      expect(await sut.get(caseId)).toEqual({
        id: caseId,
        status: 'active',
        segment: 'quiet',
        currency: 'EUR',
        principalMinor: 125_000n,
        balanceMinor: 125_000n,
        contractStatus: 'active',
        contractTerminatedAt: null,
        limitationDate: '2029-03-01',
        jurisdiction: null,
        openedAt: at,
        closedAt: null,
        invoiceExternalId: data.invoice.externalId,
        contractRef: data.invoice.contractRef,
        dueDate: '2026-03-01',
        dueAt: new Date('2026-03-01T23:00:00Z'),
        debtorExternalId: data.debtor.externalId,
        timezone: 'Europe/Berlin',
        policyKey: 'quiet',
        policyVersion: 1,
        money: {
          currency: 'EUR',
          principalMinor: 125_000n,
          dueAt: new Date('2026-03-01T23:00:00Z'),
          timezone: 'Europe/Berlin',
          invoiceRatePerDay: null,
          policyLateFee: null,
          allocation: { contract: null, policy: null, jurisdiction: null },
          payments: [],
          charges: [],
        },
      });
      expect(await sut.get(UNKNOWN)).toBeUndefined();
    });

    it('get gives a null due date and the invoice jurisdiction when the event gave an instant and a jurisdiction', async () => {
      const { caseId } = await newCase(ctx, { invoice: { dueDate: '2026-03-01T12:00:00Z', jurisdiction: 'FR' } });
      expect(await sut.get(caseId)).toMatchObject({
        dueDate: null,
        dueAt: new Date('2026-03-01T12:00:00Z'),
        jurisdiction: 'FR',
        money: { dueAt: new Date('2026-03-01T12:00:00Z'), allocation: { jurisdiction: 'FR' } },
      });
    });

    it('policyBlock reads a block of the case policy as its file states it: what a broken promise costs and leads to', async () => {
      const quiet = await newCase(ctx);
      const quick = await newCase(ctx, { policy: 'quick', segment: undefined });
      expect(await ctx.tx((tx) => sut.policyBlock(tx, quiet.caseId, 'brokenPromise'))).toEqual({ fee: '15.00', then: 'collector' });
      expect(await ctx.tx((tx) => sut.policyBlock(tx, quick.caseId, 'brokenPromise'))).toBeNull();
      const tight = await newCase(ctx, { segment: 'self-service-tight' });
      expect(await sut.policyBlock(undefined, tight.caseId, 'selfService')).toEqual({ promiseWithin: 'P14D', planMaxInstalments: 3, planStartsWithin: 'P7D' });
      expect(await sut.policyBlock(undefined, UNKNOWN, 'brokenPromise')).toBeNull();
    });

    it('letters lists the case letters oldest first, by number within the same moment', async () => {
      const { caseId, stepIds, data } = await newCase(ctx);
      const other = await newCase(ctx);
      expect(await sut.letters(caseId)).toEqual([]);
      const letters = ctx.get(LetterRepository);
      const debtorId = (await ctx.tx((tx) => ctx.get(DebtorRepository).idOf(tx, data.debtor.externalId)))!;
      const prefix = `L-T-${randomUUID().slice(0, 8)}`;
      const issue = (
        number: string,
        type: LetterType,
        role: 'debtor' | 'guarantor',
        recipientId: string,
        issuedAt: Date,
        stepId = stepIds[0]!,
        ofCase = caseId,
      ) => ({
        id: randomUUID(),
        caseId: ofCase,
        stepId,
        number,
        type,
        recipient: { role, id: recipientId, name: `${role} ${number}`, email: null, address: null },
        locale: 'en',
        templateKey: type,
        templateVersion: 'v1',
        fields: letterFields(number, type),
        pdf: Buffer.from(`%PDF ${number}`),
        sha256: `sha-${number}`,
        deliver: ['post'],
        emailStatus: null,
        emailDispatchId: null,
        postStatus: 'queued' as const,
        at: issuedAt,
        by: 'test',
      });
      const second = issue(`${prefix}-2`, 'contract-termination', 'guarantor', randomUUID(), later);
      const first = issue(`${prefix}-3`, 'payment-demand', 'debtor', debtorId, at);
      const alsoSecond = issue(`${prefix}-1`, 'guarantor-notice', 'guarantor', randomUUID(), later);
      const otherStep = other.stepIds[0]!;
      const elsewhere = issue(`${prefix}-4`, 'payment-demand', 'debtor', debtorId, at, otherStep, other.caseId);
      await ctx.tx(async (tx) => {
        for (const letter of [second, first, alsoSecond, elsewhere]) await letters.insert(tx, letter);
      });
      const listed = await sut.letters(caseId);
      expect(listed.map((letter) => letter.number)).toEqual([first.number, alsoSecond.number, second.number]);
      expect(listed[0]).toEqual({
        id: first.id,
        number: first.number,
        type: 'payment-demand',
        recipientRole: 'debtor',
        recipientName: first.recipient.name,
        sha256: first.sha256,
        emailStatus: null,
        postStatus: 'queued',
        trackingNumber: null,
        issuedAt: at,
      });
      expect(listed[2]).toMatchObject({ recipientRole: 'guarantor', type: 'contract-termination', issuedAt: later });
    });
  });

  describe('changes', () => {
    it('insertMany inserts active cases with the balance at the principal and their audit heads set', async () => {
      const debtors = ctx.get(DebtorRepository);
      const policy = ctx.get(PolicyRegistry).choose('quiet', undefined);
      const externalId = debtorRef();
      const invoiceRefs = [`INV-${randomUUID().slice(0, 8)}`, `INV-${randomUUID().slice(0, 8)}`];
      const rows: NewCaseRow[] = await ctx.tx(async (tx) => {
        const [debtor] = await debtors.upsertMany(tx, [{ externalId, name: 'Inserted', timezone: 'Europe/Paris' }], { locale: 'en', timezone: 'UTC' }, at);
        const invoiceIds = await ctx.get(InvoiceRepository).upsertMany(
          tx,
          invoiceRefs.map((ref, i) => ({
            id: randomUUID(),
            externalId: ref,
            debtorId: debtor!.id,
            contractRef: null,
            currency: i === 0 ? 'EUR' : 'JPY',
            amountDueMinor: i === 0 ? 5_000n : 70_000n,
            dueDate: '2026-02-01',
            dueAt: new Date('2026-02-01T23:00:00Z'),
            lateFeeRatePerDay: null,
            contractDate: null,
            jurisdiction: null,
            limitationDate: '2029-02-01',
            paymentAllocation: i === 0 ? null : (['interest', 'principal', 'costs'] as const),
          })),
          at,
        );
        const cases = invoiceRefs.map((ref, i) => ({
          id: randomUUID(),
          invoiceId: invoiceIds.get(ref)!,
          debtorId: debtor!.id,
          policyVersionId: policy.id,
          segment: 'manual',
          currency: i === 0 ? 'EUR' : 'JPY',
          principalMinor: i === 0 ? 5_000n : 70_000n,
          head: { seq: 3 + i, hash: `${i}`.repeat(64) },
        }));
        await sut.insertMany(tx, cases, later);
        return cases;
      });
      const [eur, jpy] = rows as [NewCaseRow, NewCaseRow];
      expect(await sut.get(eur.id)).toMatchObject({
        status: 'active',
        segment: 'manual',
        currency: 'EUR',
        principalMinor: 5_000n,
        balanceMinor: 5_000n,
        openedAt: later,
        closedAt: null,
        invoiceExternalId: invoiceRefs[0],
        debtorExternalId: externalId,
        timezone: 'Europe/Paris',
        policyKey: 'quiet',
      });
      expect((await sut.get(eur.id))!.money).toMatchObject({
        currency: 'EUR',
        principalMinor: 5_000n,
        timezone: 'Europe/Paris',
        allocation: { contract: null },
      });
      expect(await sut.get(jpy.id)).toMatchObject({
        currency: 'JPY',
        principalMinor: 70_000n,
        balanceMinor: 70_000n,
        invoiceExternalId: invoiceRefs[1],
        money: { currency: 'JPY', principalMinor: 70_000n, allocation: { contract: ['interest', 'principal', 'costs'] } },
      });
      expect(await ctx.get(TouchRepository).head(eur.id)).toEqual(eur.head);
      expect(await ctx.get(TouchRepository).head(jpy.id)).toEqual(jpy.head);
      expect(await ctx.tx((tx) => sut.openOfInvoice(tx, invoiceRefs[1]!))).toBe(jpy.id);
      await expect(ctx.tx((tx) => sut.insertMany(tx, [{ ...eur, id: randomUUID() }], later))).rejects.toThrow();
    });

    it('hold puts a case on hold, resume makes it active again, and close ends it with its closing status and time', async () => {
      const { caseId } = await newCase(ctx);
      await ctx.tx((tx) => sut.hold(tx, caseId, at));
      expect(await sut.get(caseId)).toMatchObject({ status: 'on_hold', closedAt: null });
      await ctx.tx((tx) => sut.resume(tx, caseId, later));
      expect(await sut.get(caseId)).toMatchObject({ status: 'active', closedAt: null });
      await ctx.tx((tx) => sut.hold(tx, caseId, later));
      await ctx.tx((tx) => sut.close(tx, caseId, 'written_off', later));
      expect(await sut.get(caseId)).toMatchObject({ status: 'written_off', closedAt: later });
    });

    it('changes made in a transaction that fails are not kept', async () => {
      const { caseId } = await newCase(ctx);
      await expect(
        ctx.tx(async (tx) => {
          await sut.close(tx, caseId, 'resolved', at);
          expect((await sut.lock(tx, caseId))!.status).toBe('resolved');
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await sut.get(caseId)).toMatchObject({ status: 'active', closedAt: null });
    });

    it('applyPayment sets the balance, adds up what was paid, and answers the case as commitments see it', async () => {
      const { caseId } = await newCase(ctx, { debtor: { timezone: 'America/New_York' } });
      const first = await ctx.tx((tx) => sut.applyPayment(tx, caseId, 100_000n, 25_000n, at));
      expect(first).toEqual({ id: caseId, status: 'active', currency: 'EUR', balanceMinor: 100_000n, paidMinor: 25_000n, timezone: 'America/New_York' });
      const second = await ctx.tx((tx) => sut.applyPayment(tx, caseId, 0n, 100_000n, later));
      expect(second).toMatchObject({ balanceMinor: 0n, paidMinor: 125_000n });
      expect(await sut.get(caseId)).toMatchObject({ principalMinor: 125_000n, balanceMinor: 0n });
      await expect(ctx.tx((tx) => sut.applyPayment(tx, UNKNOWN, 0n, 1n, at))).rejects.toThrow(`case ${UNKNOWN} does not exist`);
    });

    it('money reads what the account is worked out from: principal, fee terms, allocation orders, payments by day paid and fixed charges', async () => {
      const { caseId } = await newCase(ctx, {
        segment: 'letters',
        invoice: { amountDue: '800.00', dueDate: '2026-02-01', jurisdiction: 'CN', paymentAllocation: ['interest', 'principal', 'costs'] },
        debtor: { timezone: 'Asia/Shanghai' },
      });
      const other = await newCase(ctx);
      const late = await pay(caseId, 5_000n, '2026-03-08T10:00:00Z');
      const early = await pay(caseId, 2_000n, '2026-03-02T10:00:00Z');
      await pay(other.caseId, 7_000n, '2026-03-02T10:00:00Z');
      const fees = ctx.get(FeeRepository);
      await ctx.tx(async (tx) => {
        await fees.insert(tx, charge(caseId, 1_500n, later));
        await fees.insert(tx, charge(caseId, 700n, at));
        // A late fee is interest, not a charge: the account works it out from the terms.
        await fees.insert(tx, { ...charge(caseId, 450n, at), kind: 'late-fee', ratePerDay: '0.0004', days: 9, baseMinor: 80_000n });
        await fees.insert(tx, charge(other.caseId, 9_900n, at));
      });

      const money = await sut.money(undefined, caseId);

      expect(money).toEqual({
        currency: 'EUR',
        principalMinor: 80_000n,
        dueAt: new Date('2026-02-01T16:00:00Z'),
        timezone: 'Asia/Shanghai',
        invoiceRatePerDay: null,
        policyLateFee: { ratePerDay: '0.0004', capRatio: '0.2' },
        allocation: { contract: ['interest', 'principal', 'costs'], policy: null, jurisdiction: 'CN' },
        payments: [
          { id: early, paidAt: new Date('2026-03-02T10:00:00Z'), amountMinor: 2_000n },
          { id: late, paidAt: new Date('2026-03-08T10:00:00Z'), amountMinor: 5_000n },
        ],
        charges: [
          { at, amountMinor: 700n },
          { at: later, amountMinor: 1_500n },
        ],
      });
      expect(await ctx.tx((tx) => sut.money(tx, caseId))).toEqual(money);
      expect(await sut.money(undefined, UNKNOWN)).toBeUndefined();
      // Reads made together are one statement, each answered with its own case's money.
      const together = await ctx.tx((tx) => Promise.all([caseId, UNKNOWN, other.caseId].map((id) => sut.money(tx, id))));
      expect(together).toEqual([money, undefined, await sut.money(undefined, other.caseId)]);
      expect(together[2]!.charges).toEqual([{ at, amountMinor: 9_900n }]);
    });

    it('money reads in the caller’s transaction: its uncommitted payments count there and nowhere else until it commits', async () => {
      const { caseId } = await newCase(ctx);
      let paid = '';
      await ctx.tx(async (tx) => {
        paid = await pay(caseId, 12_500n, '2026-03-09T12:00:00Z', tx);
        expect((await sut.money(tx, caseId))!.payments.map((p) => p.id)).toEqual([paid]);
        expect((await sut.money(undefined, caseId))!.payments).toEqual([]);
      });
      expect((await sut.money(undefined, caseId))!.payments).toEqual([{ id: paid, paidAt: new Date('2026-03-09T12:00:00Z'), amountMinor: 12_500n }]);
      // Payments move the account, not the stored principal or balance.
      expect(await sut.get(caseId)).toMatchObject({ principalMinor: 125_000n, balanceMinor: 125_000n });
    });

    it('terminateContract marks the contract terminated at the given time and leaves the case open', async () => {
      const { caseId } = await newCase(ctx);
      await ctx.tx((tx) => sut.terminateContract(tx, caseId, later));
      expect(await sut.get(caseId)).toMatchObject({ status: 'active', contractStatus: 'terminated', contractTerminatedAt: later });
    });
  });

  describe('list', () => {
    it('lists newest first, ties by id, and pages on with the keyset position and the limit', async () => {
      const externalId = debtorRef();
      const opened: string[] = [];
      for (const when of ['2026-03-01T10:00:00Z', '2026-03-02T10:00:00Z', '2026-03-02T10:00:00Z', '2026-03-03T10:00:00Z']) {
        ctx.setNow(new Date(when));
        opened.push((await newCase(ctx, { debtor: { externalId } })).caseId);
      }
      const [oldest, tieA, tieB, newest] = opened as [string, string, string, string];
      const expected = [newest, ...[tieA, tieB].sort().reverse(), oldest];
      const all = await sut.list({ debtorExternalId: externalId, limit: 100 });
      expect(all.map((c) => c.id)).toEqual(expected);
      expect(all.every((c) => c.debtorExternalId === externalId)).toBe(true);

      const firstPage = await sut.list({ debtorExternalId: externalId, limit: 2 });
      expect(firstPage.map((c) => c.id)).toEqual(expected.slice(0, 2));
      const last = firstPage[1]!;
      const rest = await sut.list({ debtorExternalId: externalId, before: { openedAt: last.openedAt.toISOString(), id: last.id }, limit: 100 });
      expect(rest.map((c) => c.id)).toEqual(expected.slice(2));

      const walked: string[] = [];
      let before: { openedAt: string; id: string } | undefined;
      for (;;) {
        const page = await sut.list({ debtorExternalId: externalId, before, limit: 1 });
        if (page.length === 0) break;
        expect(page).toHaveLength(1);
        walked.push(page[0]!.id);
        before = { openedAt: page[0]!.openedAt.toISOString(), id: page[0]!.id };
      }
      expect(walked).toEqual(expected);
    });

    it('lists at most limit rows, newest first, across debtors when no filter is given', async () => {
      ctx.setNow(new Date('2030-01-01T00:00:00Z'));
      const { caseId } = await newCase(ctx);
      const page = await sut.list({ limit: 3 });
      expect(page.length).toBeLessThanOrEqual(3);
      expect(page[0]!.id).toBe(caseId);
      const times = page.map((c) => c.openedAt.getTime());
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect(await sut.list({ limit: 1 })).toHaveLength(1);
    });

    it('filters by status', async () => {
      const externalId = debtorRef();
      const [active, held, closed] = [
        await newCase(ctx, { debtor: { externalId } }),
        await newCase(ctx, { debtor: { externalId } }),
        await newCase(ctx, { debtor: { externalId } }),
      ];
      await ctx.tx(async (tx) => {
        await sut.hold(tx, held.caseId, at);
        await sut.close(tx, closed.caseId, 'cancelled', at);
      });
      const ids = async (status: string) => (await sut.list({ status, debtorExternalId: externalId, limit: 100 })).map((c) => c.id);
      expect(await ids('active')).toEqual([active.caseId]);
      expect(await ids('on_hold')).toEqual([held.caseId]);
      expect(await ids('cancelled')).toEqual([closed.caseId]);
      expect(await ids('resolved')).toEqual([]);
      const everyHeld = await sut.list({ status: 'on_hold', limit: 1000 });
      expect(everyHeld.every((c) => c.status === 'on_hold')).toBe(true);
      expect(everyHeld.map((c) => c.id)).toContain(held.caseId);
    });

    it('filters by debtor external id', async () => {
      const externalId = debtorRef();
      const mine = await newCase(ctx, { debtor: { externalId } });
      await newCase(ctx);
      expect((await sut.list({ debtorExternalId: externalId, limit: 100 })).map((c) => c.id)).toEqual([mine.caseId]);
      expect(await sut.list({ debtorExternalId: 'DEB-nobody', limit: 100 })).toEqual([]);
    });

    it('filters to cases whose limitation date falls strictly before the given day', async () => {
      const externalId = debtorRef();
      const march = await newCase(ctx, { debtor: { externalId }, invoice: { dueDate: '2026-03-01' } });
      const june = await newCase(ctx, { debtor: { externalId }, invoice: { dueDate: '2026-06-01' } });
      expect((await sut.get(march.caseId))!.limitationDate).toBe('2029-03-01');
      expect((await sut.get(june.caseId))!.limitationDate).toBe('2029-06-01');
      const ids = async (limitationBefore: string) => (await sut.list({ limitationBefore, debtorExternalId: externalId, limit: 100 })).map((c) => c.id);
      expect(await ids('2029-03-01')).toEqual([]);
      expect(await ids('2029-03-02')).toEqual([march.caseId]);
      expect((await ids('2029-06-02')).sort()).toEqual([march.caseId, june.caseId].sort());
      const early = await sut.list({ limitationBefore: '2029-03-02', limit: 1000 });
      expect(early.every((c) => c.limitationDate < '2029-03-02')).toBe(true);
    });

    it('filters by days past due within finite and open-ended bounds, counted on the debtor calendar', async () => {
      const externalId = debtorRef();
      const open = async (dueDate: string) => (await newCase(ctx, { debtor: { externalId, timezone: 'Europe/Berlin' }, invoice: { dueDate } })).caseId;
      const notYet = await open('2026-03-12');
      const three = await open('2026-03-07');
      const twentyEight = await open('2026-02-10');
      const twentyNine = await open('2026-02-09');
      const thirtySeven = await open('2026-02-01');
      const now = new Date('2026-03-10T08:00:00Z');
      const count = async (id: string) => {
        const record = (await sut.get(id))!;
        return daysPastDue(record.dueAt, now, record.timezone);
      };
      expect(await Promise.all([notYet, three, twentyEight, twentyNine, thirtySeven].map(count))).toEqual([0, 3, 28, 29, 37]);
      const ids = async (from: number, to: number) =>
        (await sut.list({ daysPastDue: { now, from, to }, debtorExternalId: externalId, limit: 100 })).map((c) => c.id).sort();
      expect(await ids(-Infinity, 0)).toEqual([notYet]);
      expect(await ids(1, 5)).toEqual([three]);
      expect(await ids(3, 3)).toEqual([three]);
      expect(await ids(19, 28)).toEqual([twentyEight]);
      expect(await ids(29, Infinity)).toEqual([twentyNine, thirtySeven].sort());
      expect(await ids(6, 18)).toEqual([]);
      expect(await ids(-Infinity, 28)).toEqual([notYet, three, twentyEight].sort());
      // No finite bound is no filter.
      expect(await ids(-Infinity, Infinity)).toEqual([notYet, three, twentyEight, twentyNine, thirtySeven].sort());
    });

    it('counts days past due on each debtor own calendar', async () => {
      const berlin = debtorRef();
      const tokyo = debtorRef();
      const dueDate = '2026-03-09T20:00:00Z';
      const inBerlin = await newCase(ctx, { debtor: { externalId: berlin, timezone: 'Europe/Berlin' }, invoice: { dueDate } });
      const inTokyo = await newCase(ctx, { debtor: { externalId: tokyo, timezone: 'Asia/Tokyo' }, invoice: { dueDate } });
      const now = new Date('2026-03-10T08:00:00Z');
      const ids = async (debtorExternalId: string, days: number) =>
        (await sut.list({ daysPastDue: { now, from: days, to: days }, debtorExternalId, limit: 100 })).map((c) => c.id);
      expect(await ids(berlin, 2)).toEqual([inBerlin.caseId]);
      expect(await ids(berlin, 1)).toEqual([]);
      expect(await ids(tokyo, 1)).toEqual([inTokyo.caseId]);
      expect(await ids(tokyo, 2)).toEqual([]);
    });

    it('combines filters', async () => {
      const externalId = debtorRef();
      const held = await newCase(ctx, { debtor: { externalId }, invoice: { dueDate: '2026-02-01' } });
      const heldRecent = await newCase(ctx, { debtor: { externalId }, invoice: { dueDate: '2026-03-07' } });
      await newCase(ctx, { debtor: { externalId }, invoice: { dueDate: '2026-02-01' } });
      await ctx.tx(async (tx) => {
        await sut.hold(tx, held.caseId, at);
        await sut.hold(tx, heldRecent.caseId, at);
      });
      const found = await sut.list({
        status: 'on_hold',
        debtorExternalId: externalId,
        limitationBefore: '2029-03-01',
        daysPastDue: { now: at, from: 29, to: Infinity },
        limit: 100,
      });
      expect(found.map((c) => c.id)).toEqual([held.caseId]);
    });
  });
});
