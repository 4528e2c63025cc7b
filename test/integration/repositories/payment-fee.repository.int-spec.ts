import { randomUUID } from 'node:crypto';
import { type NewFeeAssessment, FeeRepository } from '../../../src/cases/fee.repository';
import { PaymentRepository } from '../../../src/cases/payment.repository';
import { newCase } from '../../support/factories';
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
    it('records a payment once by its payment id: the same id again answers false, whatever it says', async () => {
      const payments = ctx.get(PaymentRepository);
      const { caseId } = await newCase(ctx);
      const other = await newCase(ctx);
      const payment = { caseId, externalId: `PAY-${randomUUID()}`, amountMinor: 25_000n, currency: 'EUR', paidAt: '2026-03-09T12:00:00Z', at };

      expect(await ctx.tx((tx) => payments.insert(tx, payment))).toBe(true);
      expect(await ctx.tx((tx) => payments.insert(tx, payment))).toBe(false);
      expect(await ctx.tx((tx) => payments.insert(tx, { ...payment, caseId: other.caseId, amountMinor: 1n }))).toBe(false);
      expect(await ctx.tx((tx) => payments.insert(tx, { ...payment, externalId: `PAY-${randomUUID()}` }))).toBe(true);
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
    const total = (caseId: string, late: boolean) => ctx.tx((tx) => fees.total(tx, caseId, late));

    it('total sums the late fees of the case apart from its other charges; a case without fees totals zero', async () => {
      const { caseId, stepIds } = await newCase(ctx);
      const other = await newCase(ctx);
      await insert(lateFee(caseId, stepIds[0]!));
      await insert(lateFee(caseId, stepIds[0]!, { at: minutes(1), accruedMinor: 700n, amountMinor: 250n }));
      await insert(
        lateFee(caseId, null, { kind: 'broken-promise', days: 0, ratePerDay: '0', baseMinor: 0n, accruedMinor: 1_500n, amountMinor: 1_500n, capMinor: null }),
      );
      await insert(lateFee(other.caseId, null, { amountMinor: 9_999n }));

      expect(await total(caseId, true)).toBe(700n);
      expect(await total(caseId, false)).toBe(1_500n);
      expect(await total(other.caseId, true)).toBe(9_999n);
      expect(await total(other.caseId, false)).toBe(0n);
      const none = (await newCase(ctx)).caseId;
      expect(await total(none, true)).toBe(0n);
      expect(await total(none, false)).toBe(0n);
    });

    it("ofCase lists the case's fee lines in the order they were assessed, amounts in minor units", async () => {
      const { caseId, stepIds } = await newCase(ctx);
      const [first, second] = [
        lateFee(caseId, null, { kind: 'broken-promise', at: minutes(5), days: 0, ratePerDay: '0', baseMinor: 0n, accruedMinor: 1_500n, amountMinor: 1_500n }),
        lateFee(caseId, stepIds[0]!, { at: minutes(2), asOf: '2026-03-11', days: 10, accruedMinor: 500n, amountMinor: 500n }),
      ];
      await insert(first);
      await insert(second);
      await insert(lateFee((await newCase(ctx)).caseId, null));

      expect(await fees.ofCase(caseId)).toEqual([
        {
          id: second.id,
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
          stepId: null,
          assessedAt: minutes(5),
          asOf: '2026-03-10',
          days: 0,
          ratePerDay: '0.00000000',
          baseMinor: 0n,
          accruedMinor: 1_500n,
          amountMinor: 1_500n,
        },
      ]);
      expect(await fees.ofCase(randomUUID())).toEqual([]);
    });
  });
});
