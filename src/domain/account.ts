import { localDate } from './calendar';
import type { AllocationPart } from './allocation';
import { allocationFor } from './jurisdictions';
import { addDays, daysBetween } from './legal-clocks';
import { checkedRate, feeCap, type LateFeeTerms, periodFee, trimRate } from './late-fee';
import { formatMinorUnits } from './money';

/**
 * A case's account on a day: what the debtor owes and why, worked out from the principal, the
 * payments and the charges by one function, which letters, the case API, fee assessments and
 * batches all call. Pure: dates are the debtor's calendar days (YYYY-MM-DD), money minor units.
 *
 * - The late fee accrues by balance period: the principal outstanding × the days × the daily
 *   rate, each period rounded on its own (late-fee.ts). A payment ends a period: the day it is
 *   paid still accrues on the balance before it, the next day on the balance after it.
 * - A payment pays, in the allocation order, the costs (fixed charges such as a broken-promise
 *   fee), the interest (the late fee accrued up to that day) and the principal. PRC Civil Code
 *   art. 561 and BGB § 367 set costs, interest, principal unless the contract says otherwise.
 * - What a payment pays beyond everything owed is unapplied (an overpayment).
 */

export interface AccountPayment {
  id: string;
  /** The debtor's calendar day the money was paid. */
  paidOn: string;
  amountMinor: bigint;
}

/** A fixed charge (a cost): a broken-promise fee, due from the day it was charged. */
export interface AccountCharge {
  on: string;
  amountMinor: bigint;
}

export interface AccountBasis {
  currency: string;
  principalMinor: bigint;
  /** The first day the late fee runs: the day after the due date, on the debtor's calendar. */
  feeStartDate: string;
  /** Null when no late-fee rate applies. */
  lateFee: LateFeeTerms | null;
  /** A permutation of ALLOCATION_PARTS. */
  allocation: readonly AllocationPart[];
  payments: readonly AccountPayment[];
  charges: readonly AccountCharge[];
}

/** One balance period of the late fee: [from, to], both days included. */
export interface FeePeriod {
  from: string;
  to: string;
  days: number;
  baseMinor: bigint;
  /** base × days × rate, rounded: what the formula gives. */
  productMinor: bigint;
  /** What the period adds, the product cut to what the cap leaves. */
  feeMinor: bigint;
}

export interface LateFeeAccount {
  startDate: string;
  ratePerDay: string;
  /** Days from the start date to the account's day, both included (0 before the start). */
  days: number;
  periods: FeePeriod[];
  /** Everything accrued up to the account's day, after the cap. */
  accruedMinor: bigint;
  paidMinor: bigint;
  outstandingMinor: bigint;
  /** What the next day adds, at the balance as it stands (0 once capped or paid off). */
  perDayMinor: bigint;
  capMinor: bigint | null;
  capped: boolean;
}

/** How one payment was applied. */
export interface PaymentAllocation extends AccountPayment {
  toCostsMinor: bigint;
  toInterestMinor: bigint;
  toPrincipalMinor: bigint;
  unappliedMinor: bigint;
  principalAfterMinor: bigint;
}

export interface Account {
  asOf: string;
  currency: string;
  allocation: readonly AllocationPart[];
  principalMinor: bigint;
  principalOutstandingMinor: bigint;
  lateFee: LateFeeAccount | null;
  costs: { chargedMinor: bigint; paidMinor: bigint; outstandingMinor: bigint };
  payments: PaymentAllocation[];
  paidMinor: bigint;
  unappliedMinor: bigint;
  /** Principal, late fee and costs still owed. */
  totalDueMinor: bigint;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** The account on `asOf`: payments and charges after that day are left out. */
export function accountAsOf(basis: AccountBasis, asOf: string): Account {
  const rate = basis.lateFee ? checkedRate(basis.lateFee.ratePerDay) : null;
  const cap = basis.lateFee?.capRatio != null ? feeCap(basis.principalMinor, basis.lateFee.capRatio) : null;
  const payments = basis.payments.filter((p) => p.paidOn <= asOf);
  const charges = basis.charges.filter((c) => c.on <= asOf);

  let principal = basis.principalMinor;
  let fee = 0n;
  let feePaid = 0n;
  let costs = 0n;
  let costsPaid = 0n;
  let from = basis.feeStartDate;
  const periods: FeePeriod[] = [];
  const allocations: PaymentAllocation[] = [];

  /** Closes the open period on `to` at the balance as it stands. */
  const accrue = (to: string) => {
    if (rate === null || to < from) return;
    const days = daysBetween(from, to) + 1;
    const raw = periodFee(principal, days, rate);
    const amount = cap === null ? raw : min(raw, cap > fee ? cap - fee : 0n);
    if (principal > 0n) periods.push({ from, to, days, baseMinor: principal, productMinor: raw, feeMinor: amount });
    fee += amount;
    from = addDays(to, 1);
  };

  const days = [...new Set([...payments.map((p) => p.paidOn), ...charges.map((c) => c.on)])].sort();
  for (const day of days) {
    for (const charge of charges.filter((c) => c.on === day)) costs += charge.amountMinor;
    const paidToday = payments.filter((p) => p.paidOn === day);
    if (paidToday.length === 0) continue;
    accrue(day);
    for (const payment of paidToday) {
      let left = payment.amountMinor;
      const take = (owed: bigint) => {
        const amount = min(left, owed);
        left -= amount;
        return amount;
      };
      const applied = { toCostsMinor: 0n, toInterestMinor: 0n, toPrincipalMinor: 0n };
      for (const part of basis.allocation) {
        if (part === 'costs') costsPaid += applied.toCostsMinor = take(costs - costsPaid);
        else if (part === 'interest') feePaid += applied.toInterestMinor = take(fee - feePaid);
        else principal -= applied.toPrincipalMinor = take(principal);
      }
      allocations.push({ ...payment, ...applied, unappliedMinor: left, principalAfterMinor: principal });
    }
  }
  const openDays = from <= asOf ? daysBetween(from, asOf) + 1 : 0;
  accrue(asOf);

  const lateFee = basis.lateFee && rate !== null ? lateFeeAccount(basis, asOf, { rate, cap, fee, feePaid, periods, principal, openDays }) : null;
  const paidMinor = payments.reduce((sum, p) => sum + p.amountMinor, 0n);
  return {
    asOf,
    currency: basis.currency,
    allocation: basis.allocation,
    principalMinor: basis.principalMinor,
    principalOutstandingMinor: principal,
    lateFee,
    costs: { chargedMinor: costs, paidMinor: costsPaid, outstandingMinor: costs - costsPaid },
    payments: allocations,
    paidMinor,
    unappliedMinor: allocations.reduce((sum, a) => sum + a.unappliedMinor, 0n),
    totalDueMinor: principal + (fee - feePaid) + (costs - costsPaid),
  };
}

function lateFeeAccount(
  basis: AccountBasis,
  asOf: string,
  state: { rate: bigint; cap: bigint | null; fee: bigint; feePaid: bigint; periods: FeePeriod[]; principal: bigint; openDays: number },
): LateFeeAccount {
  const { rate, cap, fee, principal, openDays } = state;
  // The next day lengthens the open period (or opens one): the difference of its rounded totals.
  const further = periodFee(principal, openDays + 1, rate) - periodFee(principal, openDays, rate);
  const room = cap === null ? further : min(further, cap > fee ? cap - fee : 0n);
  return {
    startDate: basis.feeStartDate,
    ratePerDay: basis.lateFee!.ratePerDay,
    days: asOf >= basis.feeStartDate ? daysBetween(basis.feeStartDate, asOf) + 1 : 0,
    periods: state.periods,
    accruedMinor: fee,
    paidMinor: state.feePaid,
    outstandingMinor: fee - state.feePaid,
    perDayMinor: room,
    capMinor: cap,
    capped: cap !== null && fee >= cap,
  };
}

/** A case's money as its records hold it: what `caseAccount` works the account out from. */
export interface CaseMoney {
  currency: string;
  principalMinor: bigint;
  dueAt: Date;
  timezone: string;
  /** The invoice's own daily rate, which wins over the policy's. */
  invoiceRatePerDay: string | null;
  /** The policy's `lateFee`: a rate and a cap. */
  policyLateFee: { ratePerDay?: string; capRatio?: string } | null;
  /** The contract's allocation order, else the policy's, else the jurisdiction's. */
  allocation: { contract: readonly AllocationPart[] | null; policy: readonly AllocationPart[] | null; jurisdiction: string | null };
  payments: readonly { id: string; paidAt: Date; amountMinor: bigint }[];
  charges: readonly { at: Date; amountMinor: bigint }[];
}

/** The invoice's own daily rate wins over the policy's; the cap is the policy's. */
export function feeTerms(money: Pick<CaseMoney, 'invoiceRatePerDay' | 'policyLateFee'>): LateFeeTerms | null {
  const ratePerDay = money.invoiceRatePerDay ?? money.policyLateFee?.ratePerDay;
  return ratePerDay ? { ratePerDay, capRatio: money.policyLateFee?.capRatio ?? null } : null;
}

/** What the account of a case is worked out from: its money on the debtor's calendar. */
export function caseBasis(money: CaseMoney): AccountBasis {
  const day = (at: Date) => localDate(at, money.timezone);
  const { contract, policy, jurisdiction } = money.allocation;
  return {
    currency: money.currency,
    principalMinor: money.principalMinor,
    // The due moment is the start of the first overdue day (a date is due by the end of it).
    feeStartDate: day(money.dueAt),
    lateFee: feeTerms(money),
    allocation: contract ?? policy ?? allocationFor(jurisdiction),
    payments: money.payments.map((p) => ({ id: p.id, paidOn: day(p.paidAt), amountMinor: p.amountMinor })),
    charges: money.charges.map((c) => ({ on: day(c.at), amountMinor: c.amountMinor })),
  };
}

/** The case's account as of an instant, on the debtor's calendar. */
export function caseAccount(money: CaseMoney, asOf: Date): Account {
  return accountAsOf(caseBasis(money), localDate(asOf, money.timezone));
}

/** An account as the API and the letters state it: every amount a decimal string in the case currency. */
export function accountFigures(account: Account) {
  const amount = (minor: bigint) => formatMinorUnits(minor, account.currency);
  const fee = account.lateFee;
  return {
    asOf: account.asOf,
    currency: account.currency,
    allocation: account.allocation,
    principal: amount(account.principalMinor),
    principalOutstanding: amount(account.principalOutstandingMinor),
    lateFee: fee && {
      startDate: fee.startDate,
      ratePerDay: trimRate(fee.ratePerDay),
      days: fee.days,
      periods: fee.periods.map((p) => ({
        from: p.from,
        to: p.to,
        days: p.days,
        base: amount(p.baseMinor),
        product: amount(p.productMinor),
        fee: amount(p.feeMinor),
      })),
      accrued: amount(fee.accruedMinor),
      paid: amount(fee.paidMinor),
      outstanding: amount(fee.outstandingMinor),
      perDay: amount(fee.perDayMinor),
      cap: fee.capMinor === null ? null : amount(fee.capMinor),
      capped: fee.capped,
    },
    costs: { charged: amount(account.costs.chargedMinor), paid: amount(account.costs.paidMinor), outstanding: amount(account.costs.outstandingMinor) },
    payments: account.payments.map((p) => ({
      id: p.id,
      paidOn: p.paidOn,
      amount: amount(p.amountMinor),
      toCosts: amount(p.toCostsMinor),
      toInterest: amount(p.toInterestMinor),
      toPrincipal: amount(p.toPrincipalMinor),
      unapplied: amount(p.unappliedMinor),
      principalAfter: amount(p.principalAfterMinor),
    })),
    paid: amount(account.paidMinor),
    unapplied: amount(account.unappliedMinor),
    /** Late fee and costs outstanding. */
    fees: amount(account.totalDueMinor - account.principalOutstandingMinor),
    totalDue: amount(account.totalDueMinor),
  };
}

export type AccountFigures = ReturnType<typeof accountFigures>;
