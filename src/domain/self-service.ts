import { DateTime } from 'luxon';
import type { Instalment } from './commitments';
import { addPeriod } from './legal-clocks';
import { formatMinorUnits } from './money';

/**
 * What a debtor may commit to alone on the self-service page: a promise no later than
 * `promiseWithin` from today, a plan of at most `planMaxInstalments` monthly instalments whose
 * first is no later than `planStartsWithin` from today. A plan outside them is a proposal a
 * collector decides on; a promise outside them is refused. The policy's `selfService` block sets
 * them; what it leaves out takes these conservative defaults.
 */
export interface SelfServiceBounds {
  promiseWithin: string;
  planMaxInstalments: number;
  planStartsWithin: string;
}
export const DEFAULT_SELF_SERVICE_BOUNDS: SelfServiceBounds = { promiseWithin: 'P30D', planMaxInstalments: 6, planStartsWithin: 'P30D' };
/** The form offers up to this many instalments; more is a conversation, not a form. */
export const PLAN_MAX_PROPOSED = 24;

/** The case's bounds: its policy's, each part it does not name by default. */
export function selfServiceBounds(policy: Partial<SelfServiceBounds> | null | undefined): SelfServiceBounds {
  return { ...DEFAULT_SELF_SERVICE_BOUNDS, ...policy };
}

/** The last day a promise made today may name. */
export function latestPromiseDate(today: string, bounds: SelfServiceBounds): string {
  return addPeriod(today, bounds.promiseWithin);
}

/** The last day a plan agreed today may start on. */
export function latestPlanStart(today: string, bounds: SelfServiceBounds): string {
  return addPeriod(today, bounds.planStartsWithin);
}

/** Why a promise's date is outside what the debtor may promise alone, or null. */
export function promiseOutOfBounds(dueDate: string, today: string, bounds: SelfServiceBounds): string | null {
  const last = latestPromiseDate(today, bounds);
  return dueDate > last ? `must be no later than ${last} (${bounds.promiseWithin} from today)` : null;
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
export function planOutOfBounds(count: number, firstDate: string, today: string, bounds: SelfServiceBounds): string | null {
  if (count > bounds.planMaxInstalments) return `more than ${bounds.planMaxInstalments} instalments`;
  const latestStart = latestPlanStart(today, bounds);
  if (firstDate > latestStart) return `the first instalment after ${latestStart}`;
  return null;
}
