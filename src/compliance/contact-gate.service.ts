import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  checkContact,
  type ContactChannel,
  type GateConfig,
  type GateDecision,
  type GateRules,
  HISTORY_LOOKBACK_MS,
  type PastContact,
  resolveRules,
} from '../domain/contact-gate';
import { loadGateConfig } from './gate-config';
import { Holidays } from './holidays.service';

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

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly clock: Clock,
    private readonly holidays: Holidays,
  ) {
    this.rules = loadGateConfig(config.COMPLIANCE_FILE);
  }

  /**
   * The decision for a contact now, on the debtor's recent contacts. The caller read them under the
   * debtor's contact lock (DispatchRepository), which it holds until the contact's dispatch is
   * written: so concurrent steps of one debtor cannot both slip under a cap.
   */
  decide(subject: GateSubject, history: readonly PastContact[]): GateDecision {
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

  /** The rules for a debtor's country, for checks made after the fact (quality inspection). */
  rulesFor(country: string | null): GateRules {
    return resolveRules(this.rules, country);
  }

  /** The oldest contact the caps can still count. */
  historySince(): Date {
    return new Date(this.clock.now().getTime() - HISTORY_LOOKBACK_MS);
  }
}
