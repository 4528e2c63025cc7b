import { chineseDaysCoverage, PublicHolidays } from './holiday-calendar';

describe('PublicHolidays', () => {
  const calendar = new PublicHolidays();

  describe('CN from chinese-days', () => {
    it('knows the National Day 2025 holiday and its make-up workdays (调休)', () => {
      for (const date of ['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05', '2025-10-07', '2025-10-08']) {
        expect([date, calendar.holiday('CN', date), calendar.isWorkday('CN', date)]).toEqual([date, '国庆节', false]);
      }
      expect(calendar.holiday('CN', '2025-10-06')).toBe('中秋');
      // Sunday 2025-09-28 and Saturday 2025-10-11 are worked in exchange.
      expect(calendar.isWorkday('CN', '2025-09-28')).toBe(true);
      expect(calendar.isWorkday('CN', '2025-10-11')).toBe(true);
      expect(calendar.holiday('CN', '2025-10-11')).toBeNull();
    });

    it('treats ordinary weekends as rest days, not holidays', () => {
      expect(calendar.isWorkday('CN', '2025-10-18')).toBe(false);
      expect(calendar.holiday('CN', '2025-10-18')).toBeNull();
      expect(calendar.isWorkday('CN', '2025-10-20')).toBe(true);
    });

    it('knows the 2026 schedule and covers 2004 onwards', () => {
      expect(calendar.holiday('CN', '2026-02-17')).toBe('春节');
      expect(calendar.isWorkday('CN', '2026-02-14')).toBe(true); // a make-up Saturday
      expect(chineseDaysCoverage().first).toBe(2004);
      expect(chineseDaysCoverage().last).toBeGreaterThanOrEqual(2026);
    });

    it("answers the same whatever the process's time zone", () => {
      const saved = process.env.TZ;
      try {
        // chinese-days' own functions are a day off west of UTC; the data file is not.
        process.env.TZ = 'America/Los_Angeles';
        const fresh = new PublicHolidays();
        expect(fresh.isWorkday('CN', '2025-09-28')).toBe(true);
        expect(fresh.holiday('CN', '2025-10-01')).toBe('国庆节');
        expect(fresh.holiday('CN', '2025-09-30')).toBeNull();
      } finally {
        if (saved === undefined) delete process.env.TZ;
        else process.env.TZ = saved;
      }
    });

    it("falls back to date-holidays' statutory days past chinese-days' data, without group holidays", () => {
      // 2100 is beyond any chinese-days release: National Day from date-holidays, weekends as rest.
      expect(calendar.holiday('CN', '2100-10-01')).toBe('国庆节');
      expect(calendar.isWorkday('CN', '2100-10-01')).toBe(false);
      // Women's Day afternoon and Children's Day concern part of the people only.
      expect(calendar.holiday('CN', '2100-03-08')).toBeNull();
      expect(calendar.holiday('CN', '2100-06-01')).toBeNull();
      expect(calendar.isWorkday('CN', '2100-10-09')).toBe(false); // a Saturday
    });
  });

  describe('other countries from date-holidays', () => {
    it('counts public holidays only', () => {
      expect(calendar.holiday('DE', '2026-10-03')).toBe('Tag der Deutschen Einheit');
      expect(calendar.isWorkday('DE', '2026-04-03')).toBe(false); // Karfreitag
      expect(calendar.holiday('DE', '2026-12-24')).toBeNull(); // a bank holiday
      expect(calendar.holiday('DE', '2026-11-01')).toBeNull(); // Allerheiligen: some Länder only
      expect(calendar.holiday('US', '2026-11-26')).toBe('Thanksgiving Day');
      expect(calendar.holiday('US', '2026-07-03')).toBe('Independence Day (substitute day)');
      expect(calendar.holiday('US', '2026-10-31')).toBeNull(); // Halloween: an observance
    });

    it('has Mon–Fri workdays minus holidays', () => {
      expect(calendar.isWorkday('DE', '2026-10-02')).toBe(true);
      expect(calendar.isWorkday('DE', '2026-10-03')).toBe(false);
      expect(calendar.isWorkday('DE', '2026-10-04')).toBe(false);
    });

    it('knows no holidays for an unknown country', () => {
      expect(calendar.holiday('XX', '2026-01-01')).toBeNull();
      expect(calendar.isWorkday('XX', '2026-01-01')).toBe(true);
      expect(calendar.isWorkday('XX', '2026-01-03')).toBe(false);
    });

    it('accepts lower-case codes', () => {
      expect(calendar.holiday('de', '2026-10-03')).toBe('Tag der Deutschen Einheit');
    });
  });

  describe('overrides', () => {
    const overridden = new PublicHolidays([
      { country: 'CN', date: '2025-10-03', kind: 'workday', name: 'test: worked' },
      { country: 'CN', date: '2025-10-13', kind: 'holiday', name: '补假' },
      { country: 'CN', date: '2025-10-11', kind: 'holiday', name: '不调休' },
      { country: 'cn', date: '2100-09-25', kind: 'workday', name: '国庆节调休' },
      { country: 'DE', date: '2026-10-03', kind: 'workday', name: 'test: worked' },
      { country: 'DE', date: '2026-12-24', kind: 'holiday', name: 'Heiligabend' },
    ]);

    it('win over chinese-days, both ways', () => {
      expect(overridden.holiday('CN', '2025-10-03')).toBeNull();
      expect(overridden.isWorkday('CN', '2025-10-03')).toBe(true);
      expect(overridden.holiday('CN', '2025-10-13')).toBe('补假');
      expect(overridden.isWorkday('CN', '2025-10-13')).toBe(false);
      expect(overridden.isWorkday('CN', '2025-10-11')).toBe(false);
    });

    it('add make-up workdays where only date-holidays answers', () => {
      expect(overridden.isWorkday('CN', '2100-09-25')).toBe(true); // a Saturday
    });

    it('win over date-holidays', () => {
      expect(overridden.isWorkday('DE', '2026-10-03')).toBe(true);
      expect(overridden.holiday('DE', '2026-12-24')).toBe('Heiligabend');
    });

    it('stay with their country', () => {
      expect(overridden.holiday('AT', '2026-12-24')).toBeNull();
    });
  });
});
