import { Inject, Injectable, Logger } from '@nestjs/common';
import { DateTime } from 'luxon';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { checkContact, type ContactChannel, type GateConfig, type GateDecision, HISTORY_LOOKBACK_MS, resolveRules } from '../domain/contact-gate';
import { loadGateConfig, loadHolidayOverrides } from './gate-config';
import { chineseDaysCoverage, PublicHolidays } from '../domain/holiday-calendar';

export interface GateSubject {
  debtorId: string;
  /** The step asking: its own earlier dispatch (a retried send) is not a previous contact. */
  stepId: string;
  timezone: string;
  /** The debtor's country (ISO 3166), for its holidays and rules; null for the defaults. */
  country: string | null;
  channel: ContactChannel;
}

/** The contact gate with its rules (COMPLIANCE_FILE) and holidays, and the debtor's recent contacts from the dispatch ledger. */
@Injectable()
export class ContactGate {
  private readonly logger = new Logger(ContactGate.name);
  private readonly rules: GateConfig;
  private readonly holidays: PublicHolidays;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.rules = loadGateConfig(config.COMPLIANCE_FILE);
    const overrides = loadHolidayOverrides(config.COMPLIANCE_FILE);
    this.holidays = new PublicHolidays(overrides);
    // China's official calendar (with 调休) is known only up to chinese-days' last year: say so
    // before the next year starts without it, rather than gate on statutory days alone.
    const nextYear = DateTime.fromJSDate(clock.now(), { zone: 'Asia/Shanghai' }).year + 1;
    const covered =
      chineseDaysCoverage().last >= nextYear || overrides.some((entry) => entry.country.toUpperCase() === 'CN' && entry.date.startsWith(`${nextYear}-`));
    if (!covered) {
      this.logger.warn(`no official CN holiday schedule for ${nextYear}: add it to holidayOverrides in ${config.COMPLIANCE_FILE} (or upgrade chinese-days)`);
    }
  }

  /**
   * Decides in the caller's transaction, which must already hold the debtor's contact lock
   * (`pg_advisory_xact_lock(hashtextextended('contact:' || debtor_id, 0))`, taken by the step
   * claim) in an earlier statement: held to commit, it makes a debtor's checks and the dispatch
   * rows they allow one at a time, so concurrent steps cannot both slip under a cap, and the
   * history read here sees the previous holder's dispatch.
   */
  async check(m: EntityManager, subject: GateSubject): Promise<GateDecision> {
    const [{ contacts }] = await m.query(`SELECT (${CONTACT_HISTORY('$1', '$2', '$3')}) AS contacts`, [subject.debtorId, this.historySince(), subject.stepId]);
    return this.decide(subject, contacts);
  }

  /** The decision on a history read elsewhere (by CONTACT_HISTORY, under the contact lock). */
  decide(subject: GateSubject, contacts: readonly { at: string | Date; channel: ContactChannel }[]): GateDecision {
    const history = contacts.map((contact) => ({ at: new Date(contact.at), channel: contact.channel }));
    return checkContact(
      { at: this.clock.now(), channel: subject.channel, timezone: subject.timezone, country: subject.country },
      history,
      resolveRules(this.rules, subject.country),
      this.holidays,
    );
  }

  /**
   * Where a contact planned for `at` can first go by the calendar rules alone (hours, days): the
   * ladder plans its contact steps there, so a step that falls at night is not deferred later.
   * Caps are left to send time, when the debtor's history is known.
   */
  plannedMoment(at: Date, subject: Pick<GateSubject, 'timezone' | 'country' | 'channel'>): Date {
    const decision = checkContact({ at, ...subject }, [], resolveRules(this.rules, subject.country), this.holidays);
    return decision.allowed ? at : decision.notBefore;
  }

  /** The oldest contact the caps can still count. */
  historySince(): Date {
    return new Date(this.clock.now().getTime() - HISTORY_LOOKBACK_MS);
  }
}

/**
 * A subquery for a debtor's recent contacts as a JSON array of {at, channel}, by parameter
 * numbers: the dispatch ledger's emails and SMS to the debtor since the lookback, not failed,
 * and not the asking step's own (a retried send is not a second contact).
 */
export const CONTACT_HISTORY = (debtor: string, since: string, step: string) =>
  `SELECT COALESCE(json_agg(json_build_object('at', x.created_at, 'channel', x.channel)), '[]'::json) FROM dispatches x
   WHERE x.debtor_id = ${debtor} AND x.created_at > ${since} AND x.status <> 'failed' AND x.channel IN ('email', 'sms') AND x.step_id <> ${step}`;
