import { DateTime } from 'luxon';
import { isTimeZone } from './time-zones';

/**
 * The contact gate (design.md principle 6): consulted right before every send, it says whether
 * a debtor may be contacted now on a channel and, if not, why and from when. Pure: the caller
 * brings the debtor's zone and country, the recent contacts and the holiday calendar.
 */

export type ContactChannel = 'email' | 'sms';
/** 'HH:mm' local, from < to, same day; `from` is inside the window, `to` is not ('24:00' is the end of the day). */
export interface ContactWindow {
  from: string;
  to: string;
}
/**
 * `workdays`: the country's working days (Mon–Fri minus public holidays, plus make-up workdays);
 * `every-day`: no day is closed (for jurisdictions without rest-day rules, and for tests).
 */
export type ContactDays = 'all-but-holidays' | 'workdays' | 'every-day';
export interface GateRules {
  windows: Record<ContactChannel, ContactWindow>;
  contactDays: ContactDays;
  /** Rolling 24 h, 24 h and 7 × 24 h; contacts = email + sms, and the calls, visits, chats and emails people recorded. */
  caps: { emailPerDay: number; smsPerDay: number; contactsPerWeek: number };
}
/** A contact a person made and recorded (POST /v1/cases/:id/contacts): it counts toward the weekly cap. */
export type PersonalChannel = 'call' | 'visit' | 'chat';
export interface PastContact {
  at: Date;
  channel: ContactChannel | PersonalChannel;
}
export interface ContactRequest {
  at: Date;
  channel: ContactChannel;
  timezone: string;
  country: string | null;
}
export type BlockReason = 'quiet-hours' | 'holiday' | 'rest-day' | 'cap';
export interface Block {
  reason: BlockReason;
  detail: string;
}
export type GateDecision = { allowed: true } | { allowed: false; blocks: Block[]; notBefore: Date };
export interface HolidayCalendar {
  /** The public holiday's name on that local date (YYYY-MM-DD), or null. */
  holiday(country: string, date: string): string | null;
  isWorkday(country: string, date: string): boolean;
}

export interface GateConfig {
  default: GateRules;
  jurisdictions: Record<string, { windows?: Partial<Record<ContactChannel, ContactWindow>>; contactDays?: ContactDays; caps?: Partial<GateRules['caps']> }>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The caps' rolling windows are fixed durations, not local days: "24 h" stays 24 h across DST. */
const CAP_WINDOW_MS = { day: DAY_MS, week: 7 * DAY_MS } as const;
/** How far back the caller must load a debtor's contacts for the caps to see all that count. */
export const HISTORY_LOOKBACK_MS = CAP_WINDOW_MS.week;
/** A search for the next allowed moment that runs past this is a configuration fault, not a wait. */
const SEARCH_LIMIT_DAYS = 400;

const CHANNEL_LABEL: Record<ContactChannel, { one: string; many: string }> = {
  email: { one: 'email', many: 'emails' },
  sms: { one: 'SMS', many: 'SMS' },
};

/** A jurisdiction's rules: the defaults with its overrides; a window is replaced per channel. */
export function resolveRules(config: GateConfig, country: string | null): GateRules {
  const own = country === null ? undefined : config.jurisdictions[country.toUpperCase()];
  if (!own) return config.default;
  return {
    windows: { ...config.default.windows, ...definedEntries(own.windows ?? {}) },
    contactDays: own.contactDays ?? config.default.contactDays,
    caps: { ...config.default.caps, ...definedEntries(own.caps ?? {}) },
  };
}

/**
 * Whether the contact may happen at `request.at`. When it may not, `blocks` names every rule
 * that fails then (not only the first), and `notBefore` is the earliest instant at or after
 * `request.at` at which all rules pass, with the same history.
 */
export function checkContact(request: ContactRequest, history: readonly PastContact[], rules: GateRules, calendar: HolidayCalendar): GateDecision {
  const gate = prepare(request, history, rules, calendar);
  const blocks = gate.blocksAt(request.at);
  if (blocks.length === 0) return { allowed: true };
  return { allowed: false, blocks, notBefore: gate.nextAllowed(request.at) };
}

interface Cap {
  name: string;
  limit: number;
  windowMs: number;
  /** The contacts this cap counts (its channel, or all), oldest first. */
  contacts: Date[];
  describe(count: number): string;
}

function prepare(request: ContactRequest, history: readonly PastContact[], rules: GateRules, calendar: HolidayCalendar) {
  const zone = request.timezone;
  if (!isTimeZone(zone)) throw new RangeError(`contact gate: unknown time zone "${zone}"`);
  const window = rules.windows[request.channel];
  const from = parseClock(window.from, `windows.${request.channel}.from`);
  const to = parseClock(window.to, `windows.${request.channel}.to`, true);
  if (from.minutes >= to.minutes) throw new RangeError(`contact gate: windows.${request.channel}: from ${window.from} must be before to ${window.to}`);
  const country = request.country === null ? null : request.country.toUpperCase();

  // Contacts after the request are not history yet (a concurrent send): ignored, as documented.
  const past = history.filter((contact) => contact.at.getTime() <= request.at.getTime()).sort((a, b) => a.at.getTime() - b.at.getTime());
  const label = CHANNEL_LABEL[request.channel];
  const channelLimit = request.channel === 'email' ? rules.caps.emailPerDay : rules.caps.smsPerDay;
  const caps: Cap[] = [
    {
      name: request.channel === 'email' ? 'emailPerDay' : 'smsPerDay',
      limit: channelLimit,
      windowMs: CAP_WINDOW_MS.day,
      contacts: past.filter((contact) => contact.channel === request.channel).map((contact) => contact.at),
      describe: (count) => `${count} ${count === 1 ? label.one : label.many} in the last 24 h (cap ${channelLimit})`,
    },
    {
      name: 'contactsPerWeek',
      limit: rules.caps.contactsPerWeek,
      windowMs: CAP_WINDOW_MS.week,
      contacts: past.map((contact) => contact.at),
      describe: (count) => `${count} ${count === 1 ? 'contact' : 'contacts'} in the last 7 days (cap ${rules.caps.contactsPerWeek})`,
    },
  ];
  for (const cap of caps) {
    if (!Number.isInteger(cap.limit) || cap.limit < 1) throw new RangeError(`contact gate: caps.${cap.name} must be a positive integer, got ${cap.limit}`);
  }

  const localDate = (at: Date) => DateTime.fromJSDate(at, { zone }).toISODate()!;
  /** A window edge on a local date: built from the wall-clock time, so a 23- or 25-hour day still opens at `from`. */
  const edge = (date: string, clock: Clock): Date => {
    if (clock.minutes === 24 * 60) return edge(nextDate(date), { hour: 0, minute: 0, minutes: 0 });
    const { year, month, day } = calendarDate(date);
    return DateTime.fromObject({ year, month, day, hour: clock.hour, minute: clock.minute }, { zone }).toJSDate();
  };

  /** Why a local date is closed for contact, or null when it is open. */
  const dayBlock = (date: string): Block | null => {
    if (rules.contactDays === 'every-day') return null;
    const holiday = country === null ? null : calendar.holiday(country, date);
    if (rules.contactDays === 'all-but-holidays') {
      return holiday === null ? null : { reason: 'holiday', detail: `public holiday in ${country}: ${holiday}` };
    }
    const workday = country === null ? isMondayToFriday(date) : calendar.isWorkday(country, date);
    if (workday) return null;
    if (holiday !== null) return { reason: 'holiday', detail: `public holiday in ${country}: ${holiday}` };
    const where = country === null ? 'no country calendar: Mon–Fri only' : `not a workday in ${country}`;
    return { reason: 'rest-day', detail: `${weekdayName(date)} ${date}: ${where}` };
  };

  /** Counted contacts at `at`: within the rolling window; one exactly `windowMs` old no longer counts. */
  const counted = (cap: Cap, at: Date) => cap.contacts.filter((contact) => at.getTime() - contact.getTime() < cap.windowMs);

  const blocksAt = (at: Date): Block[] => {
    const blocks: Block[] = [];
    // One conversion to the debtor's wall clock (this runs before every send): the window is
    // compared in local minutes, which is what the edges of the day are built from.
    const local = DateTime.fromJSDate(at, { zone });
    const date = local.toISODate()!;
    const minute = local.hour * 60 + local.minute;
    if (minute < from.minutes || minute >= to.minutes) {
      blocks.push({ reason: 'quiet-hours', detail: `outside ${window.from}–${window.to} in ${zone} (now ${local.toFormat('HH:mm')})` });
    }
    const day = dayBlock(date);
    if (day) blocks.push(day);
    for (const cap of caps) {
      const count = counted(cap, at).length;
      if (count >= cap.limit) blocks.push({ reason: 'cap', detail: cap.describe(count) });
    }
    return blocks;
  };

  /** The earliest instant ≥ `start` at which every rule passes: each rule pushes the candidate forward until none objects. */
  const nextAllowed = (start: Date): Date => {
    const limit = start.getTime() + SEARCH_LIMIT_DAYS * DAY_MS;
    let at = start;
    while (at.getTime() <= limit) {
      // A cap frees up when enough of its oldest counted contacts have left the rolling window.
      const freed = caps.reduce((latest, cap) => {
        const inWindow = counted(cap, at);
        if (inWindow.length < cap.limit) return latest;
        const leaving = inWindow[inWindow.length - cap.limit]!;
        return Math.max(latest, leaving.getTime() + cap.windowMs);
      }, at.getTime());
      if (freed > at.getTime()) {
        at = new Date(freed);
        continue;
      }
      const date = localDate(at);
      if (dayBlock(date) !== null || at >= edge(date, to)) {
        at = edge(nextDate(date), from);
        continue;
      }
      if (at < edge(date, from)) {
        at = edge(date, from);
        continue;
      }
      return at;
    }
    throw new RangeError(
      `contact gate: no allowed moment for ${request.channel} within ${SEARCH_LIMIT_DAYS} days of ${request.at.toISOString()} (${zone}, ${country ?? 'no country'})`,
    );
  };

  return { blocksAt, nextAllowed };
}

interface Clock {
  hour: number;
  minute: number;
  minutes: number;
}

function parseClock(value: string, field: string, endOfDay = false): Clock {
  if (endOfDay && value === '24:00') return { hour: 24, minute: 0, minutes: 24 * 60 };
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!match) throw new RangeError(`contact gate: ${field} must be HH:mm, got "${value}"`);
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  return { hour, minute, minutes: hour * 60 + minute };
}

/** Calendar arithmetic on plain dates, in UTC so that no zone's midnight gap can shift it. */
function calendarDate(date: string): DateTime {
  return DateTime.fromISO(date, { zone: 'UTC' });
}

function nextDate(date: string): string {
  return calendarDate(date).plus({ days: 1 }).toISODate()!;
}

function isMondayToFriday(date: string): boolean {
  return calendarDate(date).weekday <= 5;
}

function weekdayName(date: string): string {
  return calendarDate(date).setLocale('en').toFormat('cccc');
}

/** Drops keys whose value is undefined, so a partial override never erases a default. */
function definedEntries<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined)) as Partial<T>;
}
