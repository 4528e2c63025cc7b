import { checkedRate, feeCap, parseRate, periodFee, ratePercent, trimRate } from './late-fee';

const fee = (base: bigint, days: number, ratePerDay: string) => periodFee(base, days, checkedRate(ratePerDay));

describe('late fees', () => {
  it('charges 0.04 % a day on 1,250.00 for 17 days: 8.50', () => {
    expect(fee(125000n, 17, '0.0004')).toBe(850n);
  });

  it('rounds half up at the half cent, once on the period total', () => {
    // 1.25 × 1 × 0.0004 = 0.0005 → 0.00 (below the half cent); 12.50 × 1 × 0.0004 = 0.005 → 0.01 (the half cent rounds up)
    expect(fee(125n, 1, '0.0004')).toBe(0n);
    expect(fee(1250n, 1, '0.0004')).toBe(1n);
    // 10.01 × 3 × 0.0005 = 0.015015 → 0.02, where rounding each day (0.005005 → 0.01) would give 0.03
    expect(fee(1001n, 3, '0.0005')).toBe(2n);
    // 0.004999… stays 0.00
    expect(fee(999n, 1, '0.00050050')).toBe(0n);
  });

  it('is zero for no days, a zero balance or a zero rate', () => {
    expect(fee(125000n, 0, '0.0004')).toBe(0n);
    expect(fee(0n, 400, '0.0004')).toBe(0n);
    expect(fee(125000n, 30, '0')).toBe(0n);
  });

  it('stays exact for huge amounts (beyond 2^53 minor units)', () => {
    const base = 9_999_999_999_999_999n; // 99,999,999,999,999.99
    expect(fee(base, 3650, '0.00012345')).toBe(4_505_925_000_000_000n);
    // The same figure by hand: base × 3650 × 12345 / 10^8, rounded half up.
    const exact = base * 3650n * 12345n;
    expect(fee(base, 3650, '0.00012345')).toBe((exact + 50_000_000n) / 100_000_000n);
  });

  it('caps at a fraction of the principal, rounded down', () => {
    expect(feeCap(125000n, '0.2')).toBe(25000n);
    // 1/3 of 1.00 is 0.3333…: the cap never allows more than the fraction.
    expect(feeCap(100n, '0.33333333')).toBe(33n);
    expect(() => feeCap(100n, 'x')).toThrow(RangeError);
  });

  it('refuses rates that are not a decimal below 1 with at most 8 decimals', () => {
    for (const rate of ['1', '0.000000001', '-0.1', '4%', '.04', '']) expect(parseRate(rate)).toBeNull();
    expect(() => fee(100n, 1, '1.5')).toThrow(RangeError);
    expect(() => periodFee(-1n, 1, 1n)).toThrow(RangeError);
  });

  it('states a rate as a percentage', () => {
    expect(ratePercent('0.0004')).toBe('0.04');
    expect(ratePercent('0.05')).toBe('5');
    expect(ratePercent('0.00012345')).toBe('0.012345');
    expect(ratePercent('0')).toBe('0');
  });

  it('prints a stored rate without trailing zeros', () => {
    expect(trimRate('0.00040000')).toBe('0.0004');
    expect(trimRate('0.00000000')).toBe('0');
    expect(trimRate('0.5')).toBe('0.5');
  });
});
