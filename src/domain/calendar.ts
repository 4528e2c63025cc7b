import { DateTime } from 'luxon';

/** The debtor's calendar day of an instant, YYYY-MM-DD. */
export const localDate = (at: Date, timezone: string): string => DateTime.fromJSDate(at, { zone: timezone }).toISODate()!;

/** The due date as a calendar day on the debtor's calendar (the given date, or the local day of the due instant). */
export function calendarDueDate(given: string, dueAt: Date, timezone: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(given) ? given : localDate(dueAt, timezone);
}

/** The instant the debtor's calendar day `date` (YYYY-MM-DD) ends: the next day's local midnight. */
export const localDayEnd = (date: string, timezone: string): Date => DateTime.fromISO(date, { zone: timezone }).plus({ days: 1 }).startOf('day').toJSDate();
