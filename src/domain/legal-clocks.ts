import { DateTime, Duration } from 'luxon';

/**
 * The two clocks that decide whether a debt can still be enforced (domain.md, "Evidence and law").
 * Dates are calendar days (YYYY-MM-DD) on the debtor's calendar; periods are ISO-8601 (P3Y, P6M).
 */

export function isCalendarPeriod(period: string): boolean {
  const duration = Duration.fromISO(period);
  return duration.isValid && duration.toMillis() > 0 && !/T/.test(period);
}

/** A calendar date plus a period; a month end is kept in range (2024-02-29 + P1Y = 2025-02-28). */
export function addPeriod(date: string, period: string): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus(Duration.fromISO(period)).toISODate()!;
}

export function addDays(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate()!;
}

export function daysBetween(from: string, to: string): number {
  return Math.round(DateTime.fromISO(to, { zone: 'UTC' }).diff(DateTime.fromISO(from, { zone: 'UTC' }), 'days').days);
}

/** How a jurisdiction counts its limitation period (domain/jurisdictions.ts). */
export interface LimitationTerms {
  period: string;
  fromYearEnd: boolean;
}

/**
 * The limitation period (诉讼时效) runs from the due date; where it starts at the end of that
 * year (BGB § 199), from the year's last day. Returns the period's last day.
 */
export function limitationDate(dueDate: string, terms: LimitationTerms): string {
  return addPeriod(terms.fromYearEnd ? `${dueDate.slice(0, 4)}-12-31` : dueDate, terms.period);
}

/** The first day the period runs. */
export function limitationStart(dueDate: string, terms: LimitationTerms): string {
  return terms.fromYearEnd ? `${Number(dueDate.slice(0, 4)) + 1}-01-01` : addDays(dueDate, 1);
}

/**
 * The last day of a period moved past rest days and public holidays (PRC Civil Code art. 203,
 * BGB § 193). A calendar never has a month without a working day; the bound only stops a broken one.
 */
export function rollToWorkday(date: string, isWorkday: (date: string) => boolean): string {
  let day = date;
  for (let i = 0; i < 31 && !isWorkday(day); i++) day = addDays(day, 1);
  return day;
}

/**
 * What the jurisdiction accepts as an interruption (a delivered demand, an acknowledgment…)
 * restarts the period, which then runs again in full from that day, never from a year's end.
 * A restart never shortens the clock (a backdated acknowledgment).
 */
export function restartLimitation(current: string, restartedOn: string, period: string): { date: string; restarted: boolean } {
  // A period already run out is not revived (Limitation Act 1980 s.29(7); BGB § 212 and PRC art.
  // 195 interrupt a running period): the debtor's defence stands, whatever happens later.
  if (restartedOn > current) return { date: current, restarted: false };
  const candidate = addPeriod(restartedOn, period);
  return candidate > current ? { date: candidate, restarted: true } : { date: current, restarted: false };
}

/** True from `warnDays` before `date` up to and including the date itself. */
export function isExpiring(date: string, today: string, warnDays: number): boolean {
  const left = daysBetween(today, date);
  return left >= 0 && left <= warnDays;
}

/** 一般保证 unless the contract says 连带责任保证 (PRC Civil Code art. 686(2)). */
export const GUARANTEE_TYPES = ['general', 'joint'] as const;
export type GuaranteeType = (typeof GUARANTEE_TYPES)[number];

export type GuaranteeStatus =
  /** Running, and nothing done yet that preserves the claim. */
  | 'in-period'
  /** A notice reached a general guarantor: it informs, but preserves nothing (art. 693(1)). */
  | 'notified'
  /** Preserved within the period: a joint guarantor was notified (art. 693(2)), or the debtor was sued for a general guarantee (art. 693(1)). */
  | 'claim-preserved'
  /** Ended without being preserved: the guarantor is released and must not be dunned. */
  | 'lapsed';

/** The guarantee period (保证期间): 6 months after the due date unless agreed otherwise (art. 692). */
export function guaranteeEndsOn(dueDate: string, period: string): string {
  return addPeriod(dueDate, period);
}

export interface GuaranteeFacts {
  type: GuaranteeType;
  endsOn: string;
  /** The first day a notice reached the guarantor. */
  notifiedOn: string | null;
  /** The first day a suit or arbitration against the debtor was filed. */
  suedOn: string | null;
}

export function guaranteeStatus(guarantee: GuaranteeFacts, today: string): GuaranteeStatus {
  const preservedOn = guarantee.type === 'joint' ? guarantee.notifiedOn : guarantee.suedOn;
  if (preservedOn !== null && preservedOn <= guarantee.endsOn) return 'claim-preserved';
  if (today > guarantee.endsOn) return 'lapsed';
  return guarantee.notifiedOn !== null ? 'notified' : 'in-period';
}
