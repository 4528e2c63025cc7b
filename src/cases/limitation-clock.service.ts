import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Tx } from '../database/transactions';
import { localDate } from '../domain/calendar';
import { type JurisdictionRules, type RestartCause, rulesFor } from '../domain/jurisdictions';
import { restartLimitation } from '../domain/legal-clocks';
import { bouncedDemand } from '../domain/legal-record';
import type { TouchInput } from '../domain/touch-kinds';
import { TouchRepository } from '../audit/touch.repository';
import { InvoiceRepository } from './invoice.repository';

/** What interrupted the period (`cause`, as the touch names it) and the touch that records it: its kind and the data fields that find it. */
export interface RestartSource {
  cause: string;
  kind: string;
  key: Record<string, string>;
}

/** The limitation period of each invoice: by jurisdiction, and restarted only by what its law accepts. */
@Injectable()
export class LimitationClock {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly invoices: InvoiceRepository,
    private readonly touches: TouchRepository,
  ) {}

  /** The jurisdiction's rules, with LIMITATION_PERIODS' period for it, else LIMITATION_PERIOD for a jurisdiction the table lacks. */
  rules(jurisdiction: string | null): JurisdictionRules {
    return rulesFor(jurisdiction, this.config.LIMITATION_PERIODS, this.config.LIMITATION_PERIOD);
  }

  /**
   * Restarts the case's invoice's limitation period from the debtor's local day of `at` when its
   * jurisdiction counts `ground` as an interruption (a delivered demand does not in Germany, BGB
   * § 212); returns the `limitation.restarted` touch, or nothing when the clock does not move.
   */
  async restart(tx: Tx, caseId: string, at: Date, ground: RestartCause, source: RestartSource, actor: string): Promise<TouchInput[]> {
    const invoice = await this.invoices.lockLimitation(tx, caseId);
    if (!invoice) return [];
    const rules = this.rules(invoice.jurisdiction);
    if (!rules.limitation.restartedBy.includes(ground)) return [];
    const restartedOn = localDate(at, invoice.timezone);
    const { period, law } = rules.limitation;
    const next = restartLimitation(invoice.limitationDate, restartedOn, period);
    if (!next.restarted) return [];
    await this.invoices.setLimitationDate(tx, invoice.id, next.date, this.clock.now());
    return [
      {
        kind: 'limitation.restarted',
        actor,
        data: {
          cause: source.cause,
          ...source.key,
          ground,
          law,
          restartedOn,
          period,
          previousDate: invoice.limitationDate,
          limitationDate: next.date,
          source: { kind: source.kind, key: source.key },
        },
      },
    ];
  }

  /**
   * The email `dispatchId` bounced for good: if it was a demand whose delivery restarted the
   * period, the restart is withdrawn (a demand that never arrived interrupts nothing) and the
   * period's last day becomes what the restarts that still stand make it. If the post delivered
   * the same letter, that delivery restarts the period instead. Returns the touches; the caller
   * holds the case lock.
   */
  async withdrawBouncedRestart(tx: Tx, caseId: string, dispatchId: string, actor: string): Promise<TouchInput[]> {
    const bounced = bouncedDemand(await this.touches.legalTrail(tx, caseId), dispatchId);
    if (!bounced) return [];
    const invoice = await this.invoices.lockLimitation(tx, caseId);
    if (!invoice) return [];
    if (invoice.limitationDate !== bounced.limitationDate) await this.invoices.setLimitationDate(tx, invoice.id, bounced.limitationDate, this.clock.now());
    const key = { letterId: bounced.letterId, number: bounced.number };
    const withdrawn: TouchInput = {
      kind: 'limitation.restart_withdrawn',
      actor,
      data: {
        restartSeq: bounced.restartSeq,
        ...key,
        dispatchId,
        reason: "the demand's email bounced for good: it never reached the debtor",
        previousDate: invoice.limitationDate,
        limitationDate: bounced.limitationDate,
      },
    };
    const byPost = bounced.postDeliveredAt
      ? await this.restart(tx, caseId, bounced.postDeliveredAt, 'demand-delivered', { cause: 'letter.delivered', kind: 'letter.delivered', key }, actor)
      : [];
    return [withdrawn, ...byPost];
  }
}
