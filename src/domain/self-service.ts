import { DateTime } from 'luxon';
import type { Instalment } from './commitments';
import { formatMinorUnits } from './money';

/**
 * What a debtor may commit to alone, on the self-service page. Conservative: a promise within a
 * month, a plan of monthly instalments over at most six months starting within a month. A plan
 * outside them is a proposal a collector decides on; a promise outside them is refused.
 */
export const SELF_SERVICE_BOUNDS = { promiseWithinDays: 30, planMaxInstalments: 6, planStartsWithinDays: 30 } as const;
/** The form offers up to this many instalments; more is a conversation, not a form. */
export const PLAN_MAX_PROPOSED = 24;

const addDays = (date: string, days: number) => DateTime.fromISO(date, { zone: 'utc' }).plus({ days }).toISODate()!;

/** The last day a promise made today may name. */
export function latestPromiseDate(today: string): string {
  return addDays(today, SELF_SERVICE_BOUNDS.promiseWithinDays);
}

/** Why a promise's date is outside what the debtor may promise alone, or null. */
export function promiseOutOfBounds(dueDate: string, today: string): string | null {
  const last = latestPromiseDate(today);
  return dueDate > last ? `must be no later than ${last} (${SELF_SERVICE_BOUNDS.promiseWithinDays} days from today)` : null;
}

/**
 * `count` monthly instalments from `firstDate` that add up to `balanceMinor`: equal parts, the
 * minor units left over on the first, so every instalment is the same or less than the first.
 */
export function monthlyInstalments(balanceMinor: bigint, currency: string, count: number, firstDate: string): Instalment[] {
  const part = balanceMinor / BigInt(count);
  const first = balanceMinor - part * BigInt(count - 1);
  return Array.from({ length: count }, (_, i) => ({
    dueDate: DateTime.fromISO(firstDate, { zone: 'utc' }).plus({ months: i }).toISODate()!,
    amount: formatMinorUnits(i === 0 ? first : part, currency),
  }));
}

/** Why a proposed plan needs a collector's decision, or null when the debtor may agree it alone. */
export function planOutOfBounds(count: number, firstDate: string, today: string): string | null {
  if (count > SELF_SERVICE_BOUNDS.planMaxInstalments) return `more than ${SELF_SERVICE_BOUNDS.planMaxInstalments} instalments`;
  const latestStart = addDays(today, SELF_SERVICE_BOUNDS.planStartsWithinDays);
  if (firstDate > latestStart) return `the first instalment after ${latestStart}`;
  return null;
}
