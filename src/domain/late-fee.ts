/**
 * Late-fee arithmetic (违约金): outstanding × days overdue × daily rate, in exact integers.
 *
 * Rounding rule: a period's fee is computed exactly (rates have at most 8 decimals, so the product
 * is an integer number of 10⁻⁸ minor units) and rounded once, on the period's total, half up to
 * the currency's minor unit (0.005 EUR → 0.01 EUR). It is never rounded per day, so the total
 * does not drift. A cap, when set, limits the accrued total to a fraction of the principal.
 * domain/account.ts strings the periods together.
 */
import { amountAtRate, RATE_DECIMALS, RATE_SCALE } from './money';

export const RATE_PATTERN = /^0(\.\d{1,8})?$/;

/** "0.0004" → 40000n (in units of 10⁻⁸); null when not a rate below 1 with at most 8 decimals. */
export function parseRate(rate: string): bigint | null {
  if (!RATE_PATTERN.test(rate)) return null;
  const fraction = rate.split('.')[1] ?? '';
  return BigInt(fraction.padEnd(RATE_DECIMALS, '0'));
}

export interface LateFeeTerms {
  /** Daily rate as a decimal fraction, e.g. "0.0004" (0.04 % a day). */
  ratePerDay: string;
  /** Optional cap on the accrued total, as a fraction of the principal, e.g. "0.2" (20 %). */
  capRatio?: string | null;
}

/** A rate the caller has not checked: a RangeError naming it, never a silent zero. */
export function checkedRate(ratePerDay: string): bigint {
  const rate = parseRate(ratePerDay);
  if (rate === null) throw new RangeError(`rate "${ratePerDay}" must be a decimal below 1 with at most ${RATE_DECIMALS} decimals`);
  return rate;
}

/**
 * The fee of one balance period: base × days × rate, computed exactly and rounded once, half up,
 * to the minor unit. A payment ends a period, so each period is rounded on its own total.
 */
export function periodFee(baseMinor: bigint, days: number, rate: bigint): bigint {
  if (baseMinor < 0n || !Number.isInteger(days)) throw new RangeError('late fees need a non-negative base and whole days');
  return amountAtRate(baseMinor * BigInt(Math.max(days, 0)), rate);
}

/** The cap as a fraction of the principal, in minor units, rounded down: never more than the stated fraction. */
export function feeCap(principalMinor: bigint, ratio: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,8}))?$/.exec(ratio);
  if (!match?.[1]) throw new RangeError(`late-fee cap "${ratio}" must be a non-negative decimal fraction of the principal`);
  const scaled = BigInt(match[1]) * RATE_SCALE + BigInt((match[2] ?? '').padEnd(RATE_DECIMALS, '0'));
  return (principalMinor * scaled) / RATE_SCALE;
}

/** A stored rate without trailing zeros: "0.00040000" → "0.0004". */
export function trimRate(rate: string): string {
  return rate.includes('.') ? rate.replace(/0+$/, '').replace(/\.$/, '') : rate;
}

/** "0.0004" → "0.04": the rate as a percentage, without trailing zeros. */
export function ratePercent(rate: string): string {
  const scaled = parseRate(rate);
  if (scaled === null) throw new RangeError(`late-fee rate "${rate}" is not a rate`);
  // percent = rate × 100, i.e. the scaled rate with 6 decimals.
  const digits = scaled.toString().padStart(7, '0');
  const whole = digits.slice(0, -6);
  const fraction = digits.slice(-6).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}
