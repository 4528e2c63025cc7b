import { Inject, Injectable, Logger } from '@nestjs/common';
import { DateTime } from 'luxon';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { HolidayCalendar } from '../domain/contact-gate';
import { chineseDaysCoverage, PublicHolidays } from '../domain/holiday-calendar';
import { loadHolidayOverrides } from './gate-config';

/** Public holidays and working days by country, with COMPLIANCE_FILE's corrections: for the contact gate and for deadlines. */
@Injectable()
export class Holidays implements HolidayCalendar {
  private readonly logger = new Logger(Holidays.name);
  private readonly calendar: PublicHolidays;

  constructor(@Inject(APP_CONFIG) config: AppConfig, clock: Clock) {
    const overrides = loadHolidayOverrides(config.COMPLIANCE_FILE);
    this.calendar = new PublicHolidays(overrides);
    // China's official calendar (with 调休) is known only up to chinese-days' last year: say so
    // before the next year starts without it, rather than work on statutory days alone.
    const nextYear = DateTime.fromJSDate(clock.now(), { zone: 'Asia/Shanghai' }).year + 1;
    const covered =
      chineseDaysCoverage().last >= nextYear || overrides.some((entry) => entry.country.toUpperCase() === 'CN' && entry.date.startsWith(`${nextYear}-`));
    if (!covered) {
      this.logger.warn(`no official CN holiday schedule for ${nextYear}: add it to holidayOverrides in ${config.COMPLIANCE_FILE} (or upgrade chinese-days)`);
    }
  }

  holiday(country: string, date: string): string | null {
    return this.calendar.holiday(country, date);
  }

  isWorkday(country: string, date: string): boolean {
    return this.calendar.isWorkday(country, date);
  }
}
