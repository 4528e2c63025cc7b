import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { type NewFeeAssessment, FeeRepository } from '../../../src/cases/fee.repository';
import { PaymentRepository } from '../../../src/cases/payment.repository';
import { chargeRow, newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

describe('PaymentRepository and FeeRepository', () => {
  let ctx: IntegrationContext;
  const at = new Date('2026-03-10T08:00:00Z');
  const minutes = (n: number) => new Date(at.getTime() + n * 60_000);

  beforeAll(async () => {
    ctx = await startIntegration('payment_fee_repo');
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  describe('PaymentRepository.insert', () => {
    it('records a payment once by its payment id and answers the new row’s id; the same id again answers null, whatever it says', async () => {
      const payments = ctx.get(PaymentRepository);
      const { caseId } = await newCase(ctx);
      const other = await newCase(ctx);
      const payment = { caseId, externalId: `PAY-${randomUUID()}`, amountMinor: 25_000n, currency: 'EUR', paidAt: '2026-03-09T12:00:00Z', at };

      const id = await ctx.tx((tx) => payments.insert(tx, payment));
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(await ctx.tx((tx) => payments.insert(tx, payment))).toBeNull();
      expect(await ctx.tx((tx) => payments.insert(tx, { ...payment, caseId: other.caseId, amountMinor: 1n }))).toBeNull();
      const second = await ctx.tx((tx) => payments.insert(tx, { ...payment, externalId: `PAY-${randomUUID()}` }));
      expect(second).toEqual(expect.any(String));
      expect(second).not.toBe(id);

      const stored: { id: string; case_id: string; amount_minor: string }[] = await ctx
        .get(DataSource)
        .query('SELECT id, case_id, amount_minor FROM payments WHERE external_id = $1', [payment.externalId]);
      expect(stored).toEqual([{ id, case_id: caseId, amount_minor: '25000' }]);
    });
  });

  describe('FeeRepository', () => {
    let fees: FeeRepository;
    beforeAll(() => {
      fees = ctx.get(FeeRepository);
    });

    const lateFee = (caseId: string, stepId: string | null, more: Partial<NewFeeAssessment> = {}): NewFeeAssessment => ({
      id: randomUUID(),
      caseId,
      kind: 'late-fee',
      stepId,
      at,
      asOf: '2026-03-10',
      days: 9,
      ratePerDay: '0.0004',
      baseMinor: 125_000n,
      accruedMinor: 450n,
      amountMinor: 450n,
      capMinor: 12_500n,
      actor: 'system',
      ...more,
    });

    const insert = (fee: NewFeeAssessment) => ctx.tx((tx) => fees.insert(tx, fee));
    const charge = (caseId: string, amountMinor: bigint, more: Partial<NewFeeAssessment> = {}) =>
      chargeRow(caseId, amountMinor, at, { asOf: '2026-03-10', actor: 'system', ...more });
    const adjustment = (caseId: string, amountMinor: bigint, more: Partial<NewFeeAssessment> = {}) =>
      lateFee(caseId, null, { kind: 'late-fee-adjustment', amountMinor, ...more });
    const assessed = (caseId: string) => ctx.tx((tx) => fees.lateFeeAssessed(tx, caseId));
    const charged = (caseId: string) => ctx.tx((tx) => fees.charged(tx, caseId));

    it('lateFeeAssessed sums the late fees with their adjustments and names the day the last late fee counted to', async () => {
      const { caseId, stepIds } = await newCase(ctx);
      const other = await newCase(ctx);
      await insert(lateFee(caseId, stepIds[0]!, { asOf: '2026-03-10', amountMinor: 450n }));
      await insert(lateFee(caseId, stepIds[0]!, { at: minutes(1), asOf: '2026-03-20', accruedMinor: 950n, amountMinor: 500n }));
      // A backdated payment lowered the fee: a negative line, dated later, that does not move the day assessed to.
      await insert(adjustment(caseId, -120n, { at: minutes(2), asOf: '2026-03-25', accruedMinor: 830n }));
      await insert(charge(caseId, 1_500n, { asOf: '2026-03-30' }));
      await insert(lateFee(other.caseId, null, { asOf: '2026-04-01', amountMinor: 9_999n }));

      expect(await assessed(caseId)).toEqual({ totalMinor: 830n, lastAsOf: '2026-03-20' });
      expect(await assessed(other.caseId)).toEqual({ totalMinor: 9_999n, lastAsOf: '2026-04-01' });
      const none = (await newCase(ctx)).caseId;
      expect(await assessed(none)).toEqual({ totalMinor: 0n, lastAsOf: null });
      // Charges alone assess no late fee.
      const chargedOnly = (await newCase(ctx)).caseId;
      await insert(charge(chargedOnly, 1_500n));
      expect(await assessed(chargedOnly)).toEqual({ totalMinor: 0n, lastAsOf: null });
    });

    it('lateFeeAssessed reads in the caller’s transaction, which sees its own uncommitted lines', async () => {
      const { caseId } = await newCase(ctx);
      await ctx.tx(async (tx) => {
        await fees.insert(tx, lateFee(caseId, null, { amountMinor: 300n }));
        expect(await fees.lateFeeAssessed(tx, caseId)).toEqual({ totalMinor: 300n, lastAsOf: '2026-03-10' });
        expect(await assessed(caseId)).toEqual({ totalMinor: 0n, lastAsOf: null });
      });
      expect(await assessed(caseId)).toEqual({ totalMinor: 300n, lastAsOf: '2026-03-10' });
    });

    it('charged sums the fixed charges of the case apart from its late fees; a case without charges totals zero', async () => {
      const { caseId, stepIds } = await newCase(ctx);
      const other = await newCase(ctx);
      await insert(charge(caseId, 1_500n));
      await insert(charge(caseId, 2_250n, { at: minutes(3) }));
      await insert(lateFee(caseId, stepIds[0]!, { amountMinor: 450n }));
      await insert(adjustment(caseId, -50n));
      await insert(charge(other.caseId, 999n));

      expect(await charged(caseId)).toBe(3_750n);
      expect(await charged(other.caseId)).toBe(999n);
      expect(await charged((await newCase(ctx)).caseId)).toBe(0n);
    });

    it('a negative amount is refused for every kind but an adjustment', async () => {
      const { caseId } = await newCase(ctx);
      await expect(insert(lateFee(caseId, null, { amountMinor: -1n }))).rejects.toThrow(/fee_assessments_amount_minor_check/);
      await expect(insert(charge(caseId, -1n))).rejects.toThrow(/fee_assessments_amount_minor_check/);
      await insert(adjustment(caseId, -1n));
      expect((await fees.ofCase(caseId)).map((line) => [line.kind, line.amountMinor])).toEqual([['late-fee-adjustment', -1n]]);
    });

    it("ofCase lists the case's fee lines in the order they were assessed, amounts in minor units", async () => {
      const { caseId, stepIds } = await newCase(ctx);
      const [first, second, third] = [
        lateFee(caseId, null, { kind: 'broken-promise', at: minutes(5), days: 0, ratePerDay: '0', baseMinor: 0n, accruedMinor: 1_500n, amountMinor: 1_500n }),
        lateFee(caseId, stepIds[0]!, { at: minutes(2), asOf: '2026-03-11', days: 10, accruedMinor: 500n, amountMinor: 500n }),
        adjustment(caseId, -80n, { at: minutes(7), asOf: '2026-03-11', days: 10, baseMinor: 105_000n, accruedMinor: 420n }),
      ];
      await insert(first);
      await insert(third);
      await insert(second);
      await insert(lateFee((await newCase(ctx)).caseId, null));

      expect(await fees.ofCase(caseId)).toEqual([
        {
          id: second.id,
          kind: 'late-fee',
          stepId: stepIds[0],
          assessedAt: minutes(2),
          asOf: '2026-03-11',
          days: 10,
          ratePerDay: '0.00040000',
          baseMinor: 125_000n,
          accruedMinor: 500n,
          amountMinor: 500n,
        },
        {
          id: first.id,
          kind: 'broken-promise',
          stepId: null,
          assessedAt: minutes(5),
          asOf: '2026-03-10',
          days: 0,
          ratePerDay: '0.00000000',
          baseMinor: 0n,
          accruedMinor: 1_500n,
          amountMinor: 1_500n,
        },
        {
          id: third.id,
          kind: 'late-fee-adjustment',
          stepId: null,
          assessedAt: minutes(7),
          asOf: '2026-03-11',
          days: 10,
          ratePerDay: '0.00040000',
          baseMinor: 105_000n,
          accruedMinor: 420n,
          amountMinor: -80n,
        },
      ]);
      expect(await fees.ofCase(randomUUID())).toEqual([]);
    });
  });
});
