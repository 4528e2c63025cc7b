import { localDate } from './calendar';
import { daysPastDue } from './ladder';
import { lateFee, type LateFeeTerms, trimRate } from './late-fee';
import type { LetterFee } from './letter-fields';
import { formatMinorUnits } from './money';

/** What a case's late fee is computed from. */
export interface FeeBasis {
  currency: string;
  principalMinor: bigint;
  balanceMinor: bigint;
  dueAt: Date;
  timezone: string;
  /** The invoice's own daily rate, which wins over the policy's. */
  invoiceRatePerDay: string | null;
  /** The policy's `lateFee`: a rate and a cap. */
  policyLateFee: { ratePerDay?: string; capRatio?: string } | null;
}

/** The invoice's own daily rate wins over the policy's; the cap is the policy's. */
export function feeTerms(basis: FeeBasis): LateFeeTerms | null {
  const ratePerDay = basis.invoiceRatePerDay ?? basis.policyLateFee?.ratePerDay;
  return ratePerDay ? { ratePerDay, capRatio: basis.policyLateFee?.capRatio ?? null } : null;
}

/**
 * The late fee accrued on the outstanding balance up to `asOf` (the debtor's day), or null when
 * no rate applies. The fee runs from the first local day after the due date.
 */
export function accruedFee(basis: FeeBasis, asOf: Date): LetterFee | null {
  const agreed = feeTerms(basis);
  if (!agreed) return null;
  const days = daysPastDue(basis.dueAt, asOf, basis.timezone);
  const fee = lateFee(basis.balanceMinor, basis.principalMinor, days, agreed);
  const money = (minor: bigint) => formatMinorUnits(minor, basis.currency);
  return {
    startDate: localDate(basis.dueAt, basis.timezone),
    ratePerDay: trimRate(agreed.ratePerDay),
    days,
    base: money(basis.balanceMinor),
    accrued: money(fee.accruedMinor),
    perDay: money(fee.perDayMinor),
    asOf: localDate(asOf, basis.timezone),
    cap: fee.capMinor === null ? null : money(fee.capMinor),
    capped: fee.capped,
  };
}
