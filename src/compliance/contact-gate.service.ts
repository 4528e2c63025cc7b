import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { checkContact, type ContactChannel, type GateConfig, type GateDecision, HISTORY_LOOKBACK_MS, resolveRules } from './contact-gate';
import { loadGateConfig, loadHolidayOverrides } from './gate-config';
import { PublicHolidays } from './holiday-calendar';

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
  private readonly rules: GateConfig;
  private readonly holidays: PublicHolidays;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.rules = loadGateConfig(config.COMPLIANCE_FILE);
    this.holidays = new PublicHolidays(loadHolidayOverrides(config.COMPLIANCE_FILE));
  }

  /**
   * Decides in the caller's transaction, which must already hold the debtor's contact lock
   * (`pg_advisory_xact_lock(hashtextextended('contact:' || debtor_id, 0))`, taken by the step
   * claim) in an earlier statement: held to commit, it makes a debtor's checks and the dispatch
   * rows they allow one at a time, so concurrent steps cannot both slip under a cap, and the
   * history read here sees the previous holder's dispatch.
   */
  async check(m: EntityManager, subject: GateSubject): Promise<GateDecision> {
    const now = this.clock.now();
    const history: { at: Date; channel: ContactChannel }[] = await m.query(
      `SELECT created_at AS at, channel FROM dispatches
       WHERE debtor_id = $1 AND created_at > $2 AND status <> 'failed' AND channel IN ('email', 'sms') AND step_id <> $3`,
      [subject.debtorId, new Date(now.getTime() - HISTORY_LOOKBACK_MS), subject.stepId],
    );
    return checkContact({ at: now, channel: subject.channel, timezone: subject.timezone, country: subject.country }, history, resolveRules(this.rules, subject.country), this.holidays);
  }
}
