import { type AccountBasis, accountAsOf } from './account';
import { type AllocationPart, isAllocationOrder } from './allocation';

const CN: AllocationPart[] = ['costs', 'interest', 'principal'];
const PRINCIPAL_FIRST: AllocationPart[] = ['principal', 'interest', 'costs'];

/** 1,250.00 EUR due by the end of 2026-11-06: the fee runs from the 7th at 0.04 % a day. */
const basis = (overrides: Partial<AccountBasis> = {}): AccountBasis => ({
  currency: 'EUR',
  principalMinor: 125_000n,
  feeStartDate: '2026-11-07',
  lateFee: { ratePerDay: '0.0004' },
  allocation: CN,
  payments: [],
  charges: [],
  ...overrides,
});

describe('account', () => {
  it('accrues one period on the principal when nothing was paid', () => {
    // 1,250.00 × 17 days (7th to 23rd) × 0.04 % = 8.50; a further day adds 0.50.
    const account = accountAsOf(basis(), '2026-11-23');
    expect(account.lateFee).toMatchObject({
      startDate: '2026-11-07',
      days: 17,
      periods: [{ from: '2026-11-07', to: '2026-11-23', days: 17, baseMinor: 125_000n, productMinor: 850n, feeMinor: 850n }],
      accruedMinor: 850n,
      paidMinor: 0n,
      outstandingMinor: 850n,
      perDayMinor: 50n,
      capped: false,
    });
    expect(account).toMatchObject({ principalOutstandingMinor: 125_000n, totalDueMinor: 125_850n, paidMinor: 0n });
  });

  it('ends a balance period at each payment and applies it to interest before principal (art. 561)', () => {
    // 500.00 paid on the 16th.
    // Period 1, 7th–16th: 1,250.00 × 10 × 0.0004 = 5.00. The payment pays the 5.00 of interest, then 495.00 of principal: 755.00 left.
    // Period 2, 17th–23rd: 755.00 × 7 × 0.0004 = 2.114 → 2.11. Accrued 7.11, of which 5.00 paid: 2.11 outstanding; total 757.11.
    const account = accountAsOf(basis({ payments: [{ id: 'p1', paidOn: '2026-11-16', amountMinor: 50_000n }] }), '2026-11-23');
    expect(account.lateFee!.periods).toEqual([
      { from: '2026-11-07', to: '2026-11-16', days: 10, baseMinor: 125_000n, productMinor: 500n, feeMinor: 500n },
      { from: '2026-11-17', to: '2026-11-23', days: 7, baseMinor: 75_500n, productMinor: 211n, feeMinor: 211n },
    ]);
    expect(account.lateFee).toMatchObject({ accruedMinor: 711n, paidMinor: 500n, outstandingMinor: 211n, perDayMinor: 31n });
    expect(account.payments).toEqual([
      {
        id: 'p1',
        paidOn: '2026-11-16',
        amountMinor: 50_000n,
        toCostsMinor: 0n,
        toInterestMinor: 500n,
        toPrincipalMinor: 49_500n,
        unappliedMinor: 0n,
        principalAfterMinor: 75_500n,
      },
    ]);
    expect(account).toMatchObject({ principalOutstandingMinor: 75_500n, totalDueMinor: 75_711n, paidMinor: 50_000n });
  });

  it('applies a payment to principal first when the contract says so', () => {
    // Period 1: 5.00 as above; the payment takes 500.00 off the principal: 750.00.
    // Period 2: 750.00 × 7 × 0.0004 = 2.10. Accrued 7.10, none paid; total 757.10.
    const account = accountAsOf(basis({ allocation: PRINCIPAL_FIRST, payments: [{ id: 'p1', paidOn: '2026-11-16', amountMinor: 50_000n }] }), '2026-11-23');
    expect(account.lateFee!.periods.map((p) => p.feeMinor)).toEqual([500n, 210n]);
    expect(account).toMatchObject({ principalOutstandingMinor: 75_000n, totalDueMinor: 75_710n });
    expect(account.lateFee).toMatchObject({ accruedMinor: 710n, paidMinor: 0n, outstandingMinor: 710n });
  });

  it('pays costs first, then the fee accrued to the day, then principal', () => {
    // A broken-promise fee of 15.00 on the 10th; 20.00 paid on the 12th: 15.00 costs, then the fee
    // accrued 7th–12th (1,250.00 × 6 × 0.0004 = 3.00), then 2.00 of principal: 1,248.00 left.
    const account = accountAsOf(
      basis({ charges: [{ on: '2026-11-10', amountMinor: 1_500n }], payments: [{ id: 'p1', paidOn: '2026-11-12', amountMinor: 2_000n }] }),
      '2026-11-12',
    );
    expect(account.payments[0]).toMatchObject({ toCostsMinor: 1_500n, toInterestMinor: 300n, toPrincipalMinor: 200n });
    expect(account.costs).toEqual({ chargedMinor: 1_500n, paidMinor: 1_500n, outstandingMinor: 0n });
    expect(account).toMatchObject({ principalOutstandingMinor: 124_800n, totalDueMinor: 124_800n });
  });

  it('starts the fee at the balance left by a payment made before the fee runs', () => {
    // 250.00 paid on the 5th: 1,000.00 × 17 × 0.0004 = 6.80.
    const account = accountAsOf(basis({ payments: [{ id: 'p1', paidOn: '2026-11-05', amountMinor: 25_000n }] }), '2026-11-23');
    expect(account.lateFee!.periods).toEqual([{ from: '2026-11-07', to: '2026-11-23', days: 17, baseMinor: 100_000n, productMinor: 680n, feeMinor: 680n }]);
  });

  it('leaves out payments and charges after the day, and stops accruing once all is paid', () => {
    const later = basis({ payments: [{ id: 'p1', paidOn: '2026-11-30', amountMinor: 125_000n }] });
    expect(accountAsOf(later, '2026-11-23')).toMatchObject({ principalOutstandingMinor: 125_000n, paidMinor: 0n, payments: [] });
    // Paid in full on the 7th with the 0.50 of that day: nothing more accrues, nothing is due.
    const paid = accountAsOf(basis({ payments: [{ id: 'p1', paidOn: '2026-11-07', amountMinor: 125_050n }] }), '2026-12-31');
    expect(paid).toMatchObject({ principalOutstandingMinor: 0n, totalDueMinor: 0n });
    expect(paid.lateFee).toMatchObject({ accruedMinor: 50n, outstandingMinor: 0n, perDayMinor: 0n });
  });

  it('keeps an overpayment apart as unapplied', () => {
    const account = accountAsOf(basis({ lateFee: null, payments: [{ id: 'p1', paidOn: '2026-11-10', amountMinor: 150_000n }] }), '2026-11-23');
    expect(account).toMatchObject({ principalOutstandingMinor: 0n, unappliedMinor: 25_000n, totalDueMinor: 0n, lateFee: null });
  });

  it('applies several payments of one day in their order', () => {
    const account = accountAsOf(
      basis({
        payments: [
          { id: 'a', paidOn: '2026-11-16', amountMinor: 100n },
          { id: 'b', paidOn: '2026-11-16', amountMinor: 1_000n },
        ],
      }),
      '2026-11-16',
    );
    // The 5.00 of interest: 1.00 from the first, 4.00 from the second, which pays 6.00 of principal.
    expect(account.payments.map((p) => [p.id, p.toInterestMinor, p.toPrincipalMinor])).toEqual([
      ['a', 100n, 0n],
      ['b', 400n, 600n],
    ]);
  });

  it('caps the accrued total across periods at a fraction of the principal', () => {
    // 100.00 at 1 % a day, capped at 10 %: 5 days accrue 5.00; 50.00 paid on day 5 pays 5.00 of
    // interest and 45.00 of principal; the next 10 days on 55.00 would add 5.50 but only 5.00 fits.
    const account = accountAsOf(
      basis({
        principalMinor: 10_000n,
        lateFee: { ratePerDay: '0.01', capRatio: '0.1' },
        feeStartDate: '2026-01-01',
        payments: [{ id: 'p1', paidOn: '2026-01-05', amountMinor: 5_000n }],
      }),
      '2026-01-15',
    );
    expect(account.lateFee).toMatchObject({ accruedMinor: 1_000n, capMinor: 1_000n, capped: true, perDayMinor: 0n });
    expect(account.lateFee!.periods.map((p) => [p.productMinor, p.feeMinor])).toEqual([
      [500n, 500n],
      [550n, 500n],
    ]);
  });

  it('accrues nothing before the fee starts', () => {
    expect(accountAsOf(basis(), '2026-11-06').lateFee).toMatchObject({ days: 0, accruedMinor: 0n, periods: [] });
  });

  it('knows an allocation order when it sees one', () => {
    expect(isAllocationOrder(['principal', 'costs', 'interest'])).toBe(true);
    expect(isAllocationOrder(['principal', 'principal', 'interest'])).toBe(false);
    expect(isAllocationOrder(['principal', 'interest'])).toBe(false);
  });
});
