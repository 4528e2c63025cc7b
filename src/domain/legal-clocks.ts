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

export function daysBetween(from: string, to: string): number {
  return Math.round(DateTime.fromISO(to, { zone: 'UTC' }).diff(DateTime.fromISO(from, { zone: 'UTC' }), 'days').days);
}

/** The limitation period (诉讼时效) runs from the due date. */
export function limitationDate(dueDate: string, period: string): string {
  return addPeriod(dueDate, period);
}

/**
 * A delivered demand or a signed acknowledgment interrupts the period, which then runs again
 * in full from that day. A restart never shortens the clock (a backdated acknowledgment).
 */
export function restartLimitation(current: string, restartedOn: string, period: string): { date: string; restarted: boolean } {
  const candidate = addPeriod(restartedOn, period);
  return candidate > current ? { date: candidate, restarted: true } : { date: current, restarted: false };
}

/** True from `warnDays` before `date` up to and including the date itself. */
export function isExpiring(date: string, today: string, warnDays: number): boolean {
  const left = daysBetween(today, date);
  return left >= 0 && left <= warnDays;
}

export type GuaranteeStatus =
  /** A notice reached the guarantor within the period: the creditor's rights are preserved. */
  | 'notified'
  /** Still running, not yet notified, and not close to the end. */
  | 'running'
  /** Close to its end without a delivered notice: act now. */
  | 'expiring'
  /** Ended without a delivered notice in time: the guarantor is released. */
  | 'lapsed';

/** The guarantee period (保证期间): 6 months after the due date unless agreed otherwise. */
export function guaranteeEndsOn(dueDate: string, period: string): string {
  return addPeriod(dueDate, period);
}

export function guaranteeStatus(endsOn: string, notifiedOn: string | null, today: string, warnDays: number): GuaranteeStatus {
  if (notifiedOn !== null && notifiedOn <= endsOn) return 'notified';
  if (today > endsOn) return 'lapsed';
  return isExpiring(endsOn, today, warnDays) ? 'expiring' : 'running';
}
