import {
  checkContact,
  type ContactChannel,
  type ContactRequest,
  type GateConfig,
  type GateDecision,
  type GateRules,
  type HolidayCalendar,
  type PastContact,
  resolveRules,
} from './contact-gate';
import { PublicHolidays } from './holiday-calendar';

const DEFAULT_RULES: GateRules = {
  windows: { email: { from: '08:00', to: '21:00' }, sms: { from: '08:00', to: '21:00' } },
  contactDays: 'all-but-holidays',
  caps: { emailPerDay: 1, smsPerDay: 3, contactsPerWeek: 7 },
};
const CONFIG: GateConfig = {
  default: DEFAULT_RULES,
  jurisdictions: {
    CN: { contactDays: 'workdays', windows: { email: { from: '08:00', to: '20:00' }, sms: { from: '08:00', to: '20:00' } } },
    GB: { caps: { smsPerDay: 2 } },
  },
};
const CN_RULES = resolveRules(CONFIG, 'CN');

/** No holidays anywhere, Mon–Fri workdays: isolates windows and caps from any calendar. */
const NO_HOLIDAYS: HolidayCalendar = { holiday: () => null, isWorkday: () => true };
const holidays = new PublicHolidays();

const at = (iso: string) => new Date(iso);
const request = (iso: string, timezone: string, channel: ContactChannel = 'sms', country: string | null = null): ContactRequest => ({
  at: at(iso),
  channel,
  timezone,
  country,
});
const contacts = (channel: ContactChannel, ...isos: string[]): PastContact[] => isos.map((iso) => ({ at: at(iso), channel }));

function blocked(decision: GateDecision) {
  if (decision.allowed) throw new Error('expected the contact to be blocked');
  return decision;
}
const reasons = (decision: GateDecision) => blocked(decision).blocks.map((block) => block.reason);

describe("contact window in the debtor's zone", () => {
  it('allows a contact inside the window, with `from` inside and `to` outside it', () => {
    expect(checkContact(request('2026-06-10T10:00:00+02:00', 'Europe/Berlin'), [], DEFAULT_RULES, NO_HOLIDAYS)).toEqual({ allowed: true });
    expect(checkContact(request('2026-06-10T08:00:00+02:00', 'Europe/Berlin'), [], DEFAULT_RULES, NO_HOLIDAYS)).toEqual({ allowed: true });
    expect(checkContact(request('2026-06-10T20:59:59+02:00', 'Europe/Berlin'), [], DEFAULT_RULES, NO_HOLIDAYS)).toEqual({ allowed: true });
    const atClose = blocked(checkContact(request('2026-06-10T21:00:00+02:00', 'Europe/Berlin'), [], DEFAULT_RULES, NO_HOLIDAYS));
    expect(atClose.notBefore).toEqual(at('2026-06-11T06:00:00Z'));
  });

  it('says why and when it is night', () => {
    const decision = blocked(checkContact(request('2026-07-14T14:13:00Z', 'Pacific/Auckland'), [], DEFAULT_RULES, NO_HOLIDAYS));
    expect(decision.blocks).toEqual([{ reason: 'quiet-hours', detail: 'outside 08:00–21:00 in Pacific/Auckland (now 02:13)' }]);
  });

  describe('Europe/Berlin across DST', () => {
    it('opens at 08:00 CEST on the 23-hour day (2026-03-29)', () => {
      // 07:30 CEST = 05:30Z; the window opens at 08:00 CEST = 06:00Z.
      expect(blocked(checkContact(request('2026-03-29T05:30:00Z', 'Europe/Berlin'), [], DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(
        at('2026-03-29T06:00:00Z'),
      );
      // From 21:30 CET the evening before: 9.5 hours later, not 10.5.
      expect(blocked(checkContact(request('2026-03-28T20:30:00Z', 'Europe/Berlin'), [], DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(
        at('2026-03-29T06:00:00Z'),
      );
    });

    it('opens at 08:00 CET on the 25-hour day (2026-10-25)', () => {
      expect(blocked(checkContact(request('2026-10-25T06:30:00Z', 'Europe/Berlin'), [], DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(
        at('2026-10-25T07:00:00Z'),
      );
      // From 22:00 CEST the evening before (20:00Z): 11 hours later.
      expect(blocked(checkContact(request('2026-10-24T20:00:00Z', 'Europe/Berlin'), [], DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(
        at('2026-10-25T07:00:00Z'),
      );
    });

    it('reads the local hour with the right offset on the change day', () => {
      // 06:30Z is 08:30 CEST on 2026-03-29 (allowed) but 07:30 CET on 2026-10-25 (not yet).
      expect(checkContact(request('2026-03-29T06:30:00Z', 'Europe/Berlin'), [], DEFAULT_RULES, NO_HOLIDAYS)).toEqual({ allowed: true });
      expect(reasons(checkContact(request('2026-10-25T06:30:00Z', 'Europe/Berlin'), [], DEFAULT_RULES, NO_HOLIDAYS))).toEqual(['quiet-hours']);
    });
  });

  describe('America/New_York across DST', () => {
    it('opens at 08:00 EDT on 2026-03-08', () => {
      // 07:30 EDT = 11:30Z → 08:00 EDT = 12:00Z.
      expect(blocked(checkContact(request('2026-03-08T11:30:00Z', 'America/New_York'), [], DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(
        at('2026-03-08T12:00:00Z'),
      );
      // 01:30 EST, before the clocks jump, waits for the same 08:00 EDT.
      expect(blocked(checkContact(request('2026-03-08T06:30:00Z', 'America/New_York'), [], DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(
        at('2026-03-08T12:00:00Z'),
      );
    });

    it('opens at 08:00 EST on 2026-11-01', () => {
      // 07:30 EST = 12:30Z → 08:00 EST = 13:00Z.
      expect(blocked(checkContact(request('2026-11-01T12:30:00Z', 'America/New_York'), [], DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(
        at('2026-11-01T13:00:00Z'),
      );
      // Both 01:30s of the repeated hour (EDT 05:30Z, EST 06:30Z).
      expect(blocked(checkContact(request('2026-11-01T05:30:00Z', 'America/New_York'), [], DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(
        at('2026-11-01T13:00:00Z'),
      );
      expect(blocked(checkContact(request('2026-11-01T06:30:00Z', 'America/New_York'), [], DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(
        at('2026-11-01T13:00:00Z'),
      );
      // 21:00 EDT the evening before is already closed.
      const evening = blocked(checkContact(request('2026-11-01T01:00:00Z', 'America/New_York'), [], DEFAULT_RULES, NO_HOLIDAYS));
      expect(evening.blocks[0]?.detail).toBe('outside 08:00–21:00 in America/New_York (now 21:00)');
      expect(evening.notBefore).toEqual(at('2026-11-01T13:00:00Z'));
    });
  });

  describe('Pacific/Auckland, a day ahead of UTC', () => {
    it('defers 02:00 local to 08:00 local, the previous UTC date', () => {
      // 2026-07-15 02:00 NZST (+12) = 2026-07-14T14:00Z → 08:00 NZST = 2026-07-14T20:00Z.
      expect(blocked(checkContact(request('2026-07-14T14:00:00Z', 'Pacific/Auckland'), [], DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(
        at('2026-07-14T20:00:00Z'),
      );
    });

    it('opens at 08:00 NZDT on the day DST starts (2026-09-27) and 08:00 NZST on the day it ends (2026-04-05)', () => {
      // 02:00 NZST does not exist on 2026-09-27: it is 03:00 NZDT; 08:00 NZDT (+13) = 19:00Z the day before.
      expect(blocked(checkContact(request('2026-09-26T14:00:00Z', 'Pacific/Auckland'), [], DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(
        at('2026-09-26T19:00:00Z'),
      );
      // The first 02:00 of 2026-04-05 (NZDT, 13:00Z the day before) → 08:00 NZST (+12) = 20:00Z.
      expect(blocked(checkContact(request('2026-04-04T13:00:00Z', 'Pacific/Auckland'), [], DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(
        at('2026-04-04T20:00:00Z'),
      );
    });
  });

  it('refuses an unknown time zone', () => {
    expect(() => checkContact(request('2026-06-10T10:00:00Z', 'Mars/Olympus'), [], DEFAULT_RULES, NO_HOLIDAYS)).toThrow(/unknown time zone "Mars\/Olympus"/);
  });
});

describe('contact days', () => {
  describe('CN workdays with make-up workdays (调休), National Day 2025', () => {
    it('allows the make-up Sunday 2025-09-28 and Saturday 2025-10-11', () => {
      expect(checkContact(request('2025-09-28T10:00:00+08:00', 'Asia/Shanghai', 'sms', 'CN'), [], CN_RULES, holidays)).toEqual({ allowed: true });
      expect(checkContact(request('2025-10-11T10:00:00+08:00', 'Asia/Shanghai', 'email', 'CN'), [], CN_RULES, holidays)).toEqual({ allowed: true });
    });

    it('blocks a weekday inside the holiday and skips the whole holiday to the first workday at 08:00', () => {
      const decision = blocked(checkContact(request('2025-10-03T10:00:00+08:00', 'Asia/Shanghai', 'sms', 'CN'), [], CN_RULES, holidays));
      expect(decision.blocks).toEqual([{ reason: 'holiday', detail: 'public holiday in CN: 国庆节' }]);
      expect(decision.notBefore).toEqual(at('2025-10-09T08:00:00+08:00'));
      // Mid-Autumn falls inside the week this year.
      expect(blocked(checkContact(request('2025-10-06T10:00:00+08:00', 'Asia/Shanghai', 'sms', 'CN'), [], CN_RULES, holidays)).blocks[0]?.detail).toBe(
        'public holiday in CN: 中秋',
      );
    });

    it('blocks an ordinary weekend as a rest day', () => {
      const decision = blocked(checkContact(request('2025-10-18T10:00:00+08:00', 'Asia/Shanghai', 'sms', 'CN'), [], CN_RULES, holidays));
      expect(decision.blocks).toEqual([{ reason: 'rest-day', detail: 'Saturday 2025-10-18: not a workday in CN' }]);
      expect(decision.notBefore).toEqual(at('2025-10-20T08:00:00+08:00'));
    });

    it("closes at CN's 20:00 and skips an ordinary Saturday to the make-up Sunday", () => {
      // Friday 2025-09-26 20:30 → Saturday 09-27 is a rest day → Sunday 09-28 is a make-up workday.
      expect(blocked(checkContact(request('2025-09-26T20:30:00+08:00', 'Asia/Shanghai', 'sms', 'CN'), [], CN_RULES, holidays)).notBefore).toEqual(
        at('2025-09-28T08:00:00+08:00'),
      );
      // The make-up Sunday's evening → Monday.
      expect(blocked(checkContact(request('2025-09-28T20:00:00+08:00', 'Asia/Shanghai', 'sms', 'CN'), [], CN_RULES, holidays)).notBefore).toEqual(
        at('2025-09-29T08:00:00+08:00'),
      );
    });
  });

  it('all-but-holidays allows weekends but not holidays', () => {
    expect(checkContact(request('2025-10-18T10:00:00+08:00', 'Asia/Shanghai', 'sms', 'CN'), [], DEFAULT_RULES, holidays)).toEqual({ allowed: true });
    const holiday = blocked(checkContact(request('2025-10-04T10:00:00+08:00', 'Asia/Shanghai', 'sms', 'CN'), [], DEFAULT_RULES, holidays));
    expect(reasons(holiday)).toEqual(['holiday']);
    expect(holiday.notBefore).toEqual(at('2025-10-09T08:00:00+08:00'));
  });

  it("uses the debtor's local date, not the UTC date", () => {
    // 2025-09-30T17:00Z is 01:00 on National Day in Shanghai: a holiday there, whatever UTC says.
    expect(reasons(checkContact(request('2025-09-30T17:00:00Z', 'Asia/Shanghai', 'sms', 'CN'), [], DEFAULT_RULES, holidays))).toEqual([
      'quiet-hours',
      'holiday',
    ]);
  });

  it('without a country, workdays means Mon–Fri and all-but-holidays means every day', () => {
    const workdays: GateRules = { ...DEFAULT_RULES, contactDays: 'workdays' };
    const saturday = blocked(checkContact(request('2026-06-13T10:00:00+02:00', 'Europe/Berlin'), [], workdays, holidays));
    expect(saturday.blocks).toEqual([{ reason: 'rest-day', detail: 'Saturday 2026-06-13: no country calendar: Mon–Fri only' }]);
    expect(saturday.notBefore).toEqual(at('2026-06-15T08:00:00+02:00'));
    // 2025-10-03 is a holiday in CN, but no country means no calendar.
    expect(checkContact(request('2025-10-03T10:00:00+08:00', 'Asia/Shanghai'), [], workdays, holidays)).toEqual({ allowed: true });
    expect(checkContact(request('2026-06-13T10:00:00+02:00', 'Europe/Berlin'), [], DEFAULT_RULES, holidays)).toEqual({ allowed: true });
  });

  it('every-day closes no day, holiday or weekend, and a window to 24:00 runs to midnight', () => {
    const always: GateRules = {
      ...DEFAULT_RULES,
      contactDays: 'every-day',
      windows: { email: { from: '00:00', to: '24:00' }, sms: { from: '06:00', to: '24:00' } },
    };
    expect(checkContact(request('2025-10-04T23:59:30+08:00', 'Asia/Shanghai', 'email', 'CN'), [], always, holidays)).toEqual({ allowed: true });
    expect(checkContact(request('2025-10-04T00:00:00+08:00', 'Asia/Shanghai', 'email', 'CN'), [], always, holidays)).toEqual({ allowed: true });
    // The SMS window still closes for the night, to 06:00 the next local day.
    expect(blocked(checkContact(request('2025-10-04T02:00:00+08:00', 'Asia/Shanghai', 'sms', 'CN'), [], always, holidays)).notBefore).toEqual(
      at('2025-10-04T06:00:00+08:00'),
    );
  });

  it('fails loudly when no day is ever open', () => {
    const neverOpen: HolidayCalendar = { holiday: () => 'closed', isWorkday: () => false };
    expect(() => checkContact(request('2026-06-10T10:00:00Z', 'UTC', 'sms', 'CN'), [], CN_RULES, neverOpen)).toThrow(
      /no allowed moment for sms within 400 days/,
    );
  });
});

describe('frequency caps over rolling windows', () => {
  const berlin = (iso: string) => request(iso, 'Europe/Berlin');

  it('defers the 4th SMS in a day to when the first of the three leaves the 24-hour window', () => {
    const sent = contacts('sms', '2026-06-10T09:00:00+02:00', '2026-06-10T12:00:00+02:00', '2026-06-10T15:00:00+02:00');
    const decision = blocked(checkContact(berlin('2026-06-10T18:00:00+02:00'), sent, DEFAULT_RULES, NO_HOLIDAYS));
    expect(decision.blocks).toEqual([{ reason: 'cap', detail: '3 SMS in the last 24 h (cap 3)' }]);
    expect(decision.notBefore).toEqual(at('2026-06-11T09:00:00+02:00'));
  });

  it('stops counting a contact exactly 24 h old', () => {
    const sent = contacts('sms', '2026-06-10T09:00:00+02:00', '2026-06-10T12:00:00+02:00', '2026-06-10T15:00:00+02:00');
    expect(checkContact(berlin('2026-06-11T09:00:00+02:00'), sent, DEFAULT_RULES, NO_HOLIDAYS)).toEqual({ allowed: true });
    expect(reasons(checkContact(berlin('2026-06-11T08:59:59.999+02:00'), sent, DEFAULT_RULES, NO_HOLIDAYS))).toEqual(['cap']);
  });

  it('counts each channel against its own daily cap', () => {
    const email = contacts('email', '2026-06-10T09:00:00+02:00');
    const decision = blocked(checkContact(request('2026-06-10T18:00:00+02:00', 'Europe/Berlin', 'email'), email, DEFAULT_RULES, NO_HOLIDAYS));
    expect(decision.blocks).toEqual([{ reason: 'cap', detail: '1 email in the last 24 h (cap 1)' }]);
    expect(decision.notBefore).toEqual(at('2026-06-11T09:00:00+02:00'));
    // The email does not use up the SMS allowance.
    expect(checkContact(berlin('2026-06-10T18:00:00+02:00'), email, DEFAULT_RULES, NO_HOLIDAYS)).toEqual({ allowed: true });
  });

  describe('7 contacts in 7 days', () => {
    // One contact a day, email and SMS alternating, the oldest 6 days 20 hours before the request.
    const week = [
      ...contacts('email', '2026-06-03T12:00:00Z', '2026-06-05T09:00:00Z', '2026-06-07T09:00:00Z', '2026-06-09T09:00:00Z'),
      ...contacts('sms', '2026-06-04T09:00:00Z', '2026-06-06T09:00:00Z', '2026-06-08T09:00:00Z'),
    ];

    it('blocks until the oldest contact leaves the window', () => {
      const decision = blocked(checkContact(berlin('2026-06-10T08:00:00Z'), week, DEFAULT_RULES, NO_HOLIDAYS));
      expect(decision.blocks).toEqual([{ reason: 'cap', detail: '7 contacts in the last 7 days (cap 7)' }]);
      expect(decision.notBefore).toEqual(at('2026-06-10T12:00:00Z'));
    });

    it('then also waits for the window when the oldest leaves at night', () => {
      // The oldest leaves at 21:30 Berlin, after the window closes: 08:00 the next morning.
      const lateOldest = [...week.slice(1), ...contacts('email', '2026-06-03T19:30:00Z')];
      expect(blocked(checkContact(berlin('2026-06-10T08:00:00Z'), lateOldest, DEFAULT_RULES, NO_HOLIDAYS)).notBefore).toEqual(at('2026-06-11T06:00:00Z'));
    });

    it('waits for as many contacts to leave as are over the cap', () => {
      const eight = [...week, ...contacts('sms', '2026-06-03T15:00:00Z')];
      const decision = blocked(checkContact(berlin('2026-06-10T08:00:00Z'), eight, DEFAULT_RULES, NO_HOLIDAYS));
      expect(decision.blocks[0]?.detail).toBe('8 contacts in the last 7 days (cap 7)');
      // The 12:00Z contact leaves first, the 15:00Z one next: then only 6 remain.
      expect(decision.notBefore).toEqual(at('2026-06-10T15:00:00Z'));
    });

    it("counts people's recorded calls toward the week, not toward a channel's day", () => {
      const calls: PastContact[] = [{ at: at('2026-06-09T10:00:00Z'), channel: 'call' }];
      const decision = blocked(checkContact(berlin('2026-06-10T08:00:00Z'), [...week.slice(1), ...calls], DEFAULT_RULES, NO_HOLIDAYS));
      expect(decision.blocks).toEqual([{ reason: 'cap', detail: '7 contacts in the last 7 days (cap 7)' }]);
      expect(checkContact(berlin('2026-06-10T08:00:00Z'), [...calls, ...calls, ...calls], DEFAULT_RULES, NO_HOLIDAYS)).toEqual({ allowed: true });
    });

    it('no longer counts a contact exactly 7 days old', () => {
      const boundary = [...week.slice(1), ...contacts('email', '2026-06-03T08:00:00Z')];
      expect(checkContact(berlin('2026-06-10T08:00:00Z'), boundary, DEFAULT_RULES, NO_HOLIDAYS)).toEqual({ allowed: true });
    });
  });

  it('lists a cap block and a quiet-hours block together, and waits for both', () => {
    const sent = contacts('sms', '2026-06-10T20:00:00+02:00', '2026-06-10T20:15:00+02:00', '2026-06-10T20:30:00+02:00');
    const decision = blocked(checkContact(berlin('2026-06-10T22:00:00+02:00'), sent, DEFAULT_RULES, NO_HOLIDAYS));
    expect(decision.blocks).toEqual([
      { reason: 'quiet-hours', detail: 'outside 08:00–21:00 in Europe/Berlin (now 22:00)' },
      { reason: 'cap', detail: '3 SMS in the last 24 h (cap 3)' },
    ]);
    // Not 08:00 the next morning: the first SMS frees its slot only at 20:00, still inside the window.
    expect(decision.notBefore).toEqual(at('2026-06-11T20:00:00+02:00'));
  });

  it('lists every failing rule at once: quiet hours, holiday and caps', () => {
    const sent = [
      ...contacts('email', '2025-10-03T09:00:00+08:00'),
      ...contacts(
        'sms',
        '2025-09-27T09:00:00+08:00',
        '2025-09-28T09:00:00+08:00',
        '2025-09-29T09:00:00+08:00',
        '2025-09-29T10:00:00+08:00',
        '2025-09-30T09:00:00+08:00',
        '2025-09-30T10:00:00+08:00',
      ),
    ];
    const decision = blocked(checkContact(request('2025-10-03T22:00:00+08:00', 'Asia/Shanghai', 'email', 'CN'), sent, CN_RULES, holidays));
    expect(reasons(decision)).toEqual(['quiet-hours', 'holiday', 'cap', 'cap']);
    expect(decision.blocks.map((block) => block.detail)).toContain('7 contacts in the last 7 days (cap 7)');
    expect(decision.notBefore).toEqual(at('2025-10-09T08:00:00+08:00'));
  });

  it('ignores history entries after the request', () => {
    const later = contacts('sms', '2026-06-10T10:00:01+02:00', '2026-06-10T11:00:00+02:00', '2026-06-10T12:00:00+02:00');
    expect(checkContact(berlin('2026-06-10T10:00:00+02:00'), later, DEFAULT_RULES, NO_HOLIDAYS)).toEqual({ allowed: true });
    // One at the very same instant counts.
    const same = contacts('email', '2026-06-10T10:00:00+02:00');
    expect(reasons(checkContact(request('2026-06-10T10:00:00+02:00', 'Europe/Berlin', 'email'), same, DEFAULT_RULES, NO_HOLIDAYS))).toEqual(['cap']);
  });
});

describe('resolveRules', () => {
  it('applies a jurisdiction over the defaults, field by field', () => {
    expect(CN_RULES).toEqual({
      windows: { email: { from: '08:00', to: '20:00' }, sms: { from: '08:00', to: '20:00' } },
      contactDays: 'workdays',
      caps: DEFAULT_RULES.caps,
    });
    expect(resolveRules(CONFIG, 'GB')).toEqual({ ...DEFAULT_RULES, caps: { emailPerDay: 1, smsPerDay: 2, contactsPerWeek: 7 } });
    expect(resolveRules(CONFIG, 'cn')).toEqual(CN_RULES);
  });

  it('falls back to the defaults for other countries and for none', () => {
    expect(resolveRules(CONFIG, 'FR')).toEqual(DEFAULT_RULES);
    expect(resolveRules(CONFIG, null)).toEqual(DEFAULT_RULES);
  });
});
