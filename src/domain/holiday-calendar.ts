import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { default as Holidays, HolidaysTypes } from 'date-holidays';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { HolidayCalendar } from './contact-gate';

/** A date the packages get wrong or do not know yet (next year's 调休 schedule): wins over both. */
export interface HolidayOverride {
  country: string;
  date: string;
  kind: 'holiday' | 'workday';
  name: string;
}

/**
 * chinese-days' published data file (documented in its README): holidays, make-up workdays
 * (调休) and in-lieu days by YYYY-MM-DD, each named "English,中文,days".
 *
 * Why the file and not its functions (isWorkday, getDayDetail): they parse 'YYYY-MM-DD' as UTC
 * midnight and read it back with local getters, and the package builds its own table the same
 * way, so in a process whose TZ is west of UTC every answer is a day off (seen here with
 * TZ=America/Los_Angeles: 369 wrong days in 2004–2026). Its isHoliday also counts weekends.
 * The data file has none of this.
 */
const chineseDaysSchema = z.object({
  holidays: z.record(z.string(), z.string()),
  workdays: z.record(z.string(), z.string()),
});
/** From the project root, as letter-pdf does: the same code runs as CommonJS (nest build) and ESM (Jest). */
const projectRequire = createRequire(join(process.cwd(), 'package.json'));
const chineseDays = chineseDaysSchema.parse(projectRequire('chinese-days/dist/chinese-days.json'));
const chineseDaysYears = new Set(Object.keys(chineseDays.holidays).map((date) => Number(date.slice(0, 4))));
/**
 * date-holidays' rules for every country (some 20 MB once loaded) load with the first country the
 * overrides and chinese-days do not answer for: many processes never ask. chinese-days' table is
 * small and read at once, for the coverage warning at boot.
 */
let DateHolidays: typeof Holidays | undefined;

/** The years chinese-days has official schedules for (1.5.7: 2004–2026; each November adds the next). */
export function chineseDaysCoverage(): { first: number; last: number } {
  return { first: Math.min(...chineseDaysYears), last: Math.max(...chineseDaysYears) };
}

/**
 * Public holidays and working days by country, for the contact gate.
 *
 * - CN, in the years chinese-days covers: its holidays and make-up workdays. Outside them it
 *   knows nothing and would call every Mon–Fri a workday, so we fall back to date-holidays'
 *   CN rules: the statutory days only, without 调休 and without the bridged days of Golden
 *   Week (3 of National Day's 7–8 days). Add next year's schedule to the override table as soon
 *   as the State Council publishes it, until a chinese-days release carries it.
 * - Other countries: date-holidays, public holidays only (type 'public'; no bank, school,
 *   optional or observance days), nationwide (no state or region); workdays are Mon–Fri minus
 *   those. An unknown country code has no holidays.
 * - Overrides win over both.
 */
export class PublicHolidays implements HolidayCalendar {
  private readonly overrides = new Map<string, HolidayOverride>();
  /** One date-holidays instance per country: building one parses the country's rules. */
  private readonly countries = new Map<string, Holidays>();
  /** Holiday names by date, per country and year. */
  private readonly years = new Map<string, ReadonlyMap<string, string>>();

  constructor(overrides: readonly HolidayOverride[] = []) {
    for (const entry of overrides) this.overrides.set(key(entry.country.toUpperCase(), entry.date), entry);
  }

  holiday(country: string, date: string): string | null {
    const code = country.toUpperCase();
    const override = this.overrides.get(key(code, date));
    if (override) return override.kind === 'holiday' ? override.name : null;
    if (code === 'CN' && chineseDaysYears.has(yearOf(date))) {
      const entry = chineseDays.holidays[date];
      return entry === undefined ? null : chineseName(entry);
    }
    return this.packageHolidays(code, yearOf(date)).get(date) ?? null;
  }

  isWorkday(country: string, date: string): boolean {
    const code = country.toUpperCase();
    const override = this.overrides.get(key(code, date));
    if (override) return override.kind === 'workday';
    if (code === 'CN' && chineseDaysYears.has(yearOf(date)) && chineseDays.workdays[date] !== undefined) return true;
    return isMondayToFriday(date) && this.holiday(code, date) === null;
  }

  private packageHolidays(country: string, year: number): ReadonlyMap<string, string> {
    const cacheKey = key(country, String(year));
    let byDate = this.years.get(cacheKey);
    if (!byDate) {
      byDate = publicHolidays(this.instance(country), country, year);
      this.years.set(cacheKey, byDate);
    }
    return byDate;
  }

  /** A country date-holidays does not know yields an instance with no holidays at all. */
  private instance(country: string): Holidays {
    let holidays = this.countries.get(country);
    if (!holidays) {
      DateHolidays ??= projectRequire('date-holidays') as typeof Holidays;
      holidays = new DateHolidays(country);
      this.countries.set(country, holidays);
    }
    return holidays;
  }
}

/** date-holidays returns `note` on some holidays but its typings omit it. */
type NotedHoliday = HolidaysTypes.Holiday & { note?: string };

function publicHolidays(holidays: Holidays, country: string, year: number): ReadonlyMap<string, string> {
  const byDate = new Map<string, string>();
  for (const holiday of holidays.getHolidays(year) as NotedHoliday[]) {
    if (holiday.type !== 'public') continue;
    // CN's entries with a note are for part of the people only (Women's Day afternoon, Youth
    // Day, Children's Day, Army Day); chinese-days rightly leaves them out.
    if (country === 'CN' && holiday.note) continue;
    // `date` is the local start ("2026-10-03 00:00:00"); a rule may span several days.
    const first = DateTime.fromISO(holiday.date.slice(0, 10), { zone: 'UTC' });
    const days = Math.max(1, Math.round((holiday.end.getTime() - holiday.start.getTime()) / 86_400_000));
    for (let offset = 0; offset < days; offset++) {
      const date = first.plus({ days: offset }).toISODate()!;
      if (!byDate.has(date)) byDate.set(date, holiday.name);
    }
  }
  return byDate;
}

function key(country: string, date: string): string {
  return `${country}|${date}`;
}

function yearOf(date: string): number {
  return Number(date.slice(0, 4));
}

/** "National Day,国庆节,3" → "国庆节". */
function chineseName(entry: string): string {
  return entry.split(',')[1] ?? entry;
}

function isMondayToFriday(date: string): boolean {
  return DateTime.fromISO(date, { zone: 'UTC' }).weekday <= 5;
}
