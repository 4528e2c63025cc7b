import { DateTime, Duration } from 'luxon';
import type { CatchUp, PolicyStep } from './policy';
import { SKIP_REASONS } from './statuses';

export interface PlannedStep {
  index: number;
  step: PolicyStep;
  dueAt: Date;
  /** `skipped` when its time passed before the case opened and the catch-up rule drops it. */
  status: 'pending' | 'skipped';
  reason?: string;
  /** Where the ladder put the step before a late case caught up (`from-first`). */
  rebasedFrom?: Date;
}

/**
 * The moment a debt falls due: a date means "by the end of that day" in the debtor's
 * time zone, so the debt is due at the next local midnight; an instant is taken as is.
 */
export function resolveDueAt(dueDate: string, timezone: string): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(dueDate)) {
    return DateTime.fromISO(dueDate, { zone: timezone }).plus({ days: 1 }).startOf('day').toJSDate();
  }
  return DateTime.fromISO(dueDate, { setZone: true }).toJSDate();
}

/** Adds an ISO offset in the debtor's zone, so P1D stays at the same wall-clock time across DST. */
export function stepDueAt(dueAt: Date, offset: string, timezone: string): Date {
  return DateTime.fromJSDate(dueAt, { zone: timezone }).plus(Duration.fromISO(offset)).toJSDate();
}

/**
 * Plans every step of a ladder. A case opened late does not fire the whole past ladder at once.
 *
 * - `from-first` (the default): the first step already due runs now and every later one keeps
 *   the ladder's spacing from it, so a case opened 45 days past due still starts with the first
 *   reminder, and a termination never comes before the demand it needs.
 * - `latest`: of the steps already due, only the latest runs now; the earlier ones are skipped.
 *   Fee steps are bookkeeping, not contact, so they are weighed apart: the latest past-due fee
 *   step still runs (it assesses everything accrued so far) whatever contact follows it.
 *
 * Either way, once the invoice is overdue, a step meant for before the due date (a negative
 * offset) whose time has passed is skipped: "falls due on …" is no longer true.
 */
export function planLadder(steps: readonly PolicyStep[], dueAt: Date, timezone: string, now: Date, catchUp: CatchUp = 'from-first'): PlannedStep[] {
  const planned = steps.map((step, index) => ({ index, step, dueAt: stepDueAt(dueAt, step.at, timezone) }));
  // A reminder meant for before the due date, once the invoice is overdue.
  const overdue = dueAt <= now;
  const passed = (entry: (typeof planned)[number]) => overdue && entry.dueAt <= now && Duration.fromISO(entry.step.at).toMillis() < 0;
  const pastDue = planned.filter((entry) => entry.dueAt <= now && !passed(entry));
  const passedReminder = { status: 'skipped' as const, reason: SKIP_REASONS.pastDueReminder };
  if (catchUp === 'from-first') {
    const first = pastDue.reduce<(typeof planned)[number] | undefined>(
      (earliest, entry) => (!earliest || entry.dueAt < earliest.dueAt ? entry : earliest),
      undefined,
    );
    // The ladder again from a due moment that puts the first step due now.
    const rebased = first && pastDue.length > 1 ? DateTime.fromJSDate(now, { zone: timezone }).minus(Duration.fromISO(first.step.at)).toJSDate() : null;
    return planned.map((entry) => {
      if (passed(entry)) return { ...entry, ...passedReminder };
      if (!rebased) return { ...entry, status: 'pending' as const };
      const moved = entry === first ? now : stepDueAt(rebased, entry.step.at, timezone);
      const at = moved < now ? now : moved;
      return { ...entry, dueAt: at, status: 'pending' as const, ...(at.getTime() !== entry.dueAt.getTime() ? { rebasedFrom: entry.dueAt } : {}) };
    });
  }
  const latestPastDue = (entries: typeof planned) =>
    entries.reduce<(typeof planned)[number] | undefined>((latest, entry) => (!latest || entry.dueAt >= latest.dueAt ? entry : latest), undefined);
  const kept = new Set([
    latestPastDue(pastDue.filter((entry) => entry.step.action === 'fee')),
    latestPastDue(pastDue.filter((entry) => entry.step.action !== 'fee')),
  ]);
  return planned.map((entry) => {
    if (entry.dueAt > now) return { ...entry, status: 'pending' as const };
    if (passed(entry)) return { ...entry, ...passedReminder };
    return kept.has(entry) ? { ...entry, status: 'pending' as const } : { ...entry, status: 'skipped' as const, reason: SKIP_REASONS.superseded };
  });
}

export type Stage = 'upcoming' | 'early' | 'middle' | 'late' | 'severe';

/** Collection stages by days past due (seed 003: early 1–5, middle 6–18, late 19–28). */
export function stageFor(daysPastDue: number): Stage {
  if (daysPastDue < 1) return 'upcoming';
  if (daysPastDue <= 5) return 'early';
  if (daysPastDue <= 18) return 'middle';
  if (daysPastDue <= 28) return 'late';
  return 'severe';
}

export const STAGE_DAYS: Record<Stage, [number, number]> = {
  upcoming: [-Infinity, 0],
  early: [1, 5],
  middle: [6, 18],
  late: [19, 28],
  severe: [29, Infinity],
};

/**
 * Days past due by the debtor's calendar: the local day the debt fell due is day 1, each local
 * midnight after it starts the next (so a 23- or 25-hour DST day is still one day).
 */
export function daysPastDue(dueAt: Date, now: Date, timezone: string): number {
  if (now < dueAt) return 0;
  const day = (instant: Date) => DateTime.fromJSDate(instant, { zone: timezone }).startOf('day');
  return Math.round(day(now).diff(day(dueAt), 'days').days) + 1;
}

/** The same count in SQL, for filters: `$now` and the row's due moment and zone as expressions. */
export function daysPastDueSql(now: string, dueAt: string, timezone: string): string {
  return `(CASE WHEN ${now} < ${dueAt} THEN 0 ELSE ((${now} AT TIME ZONE ${timezone})::date - (${dueAt} AT TIME ZONE ${timezone})::date) + 1 END)`;
}
