import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Tx } from '../database/transactions';
import { localDate } from '../domain/calendar';
import { restartLimitation } from '../domain/legal-clocks';
import type { TouchInput } from '../domain/touch-kinds';
import { InvoiceRepository } from './invoice.repository';

/** The limitation period of each invoice: by jurisdiction, and restarted by what interrupts it. */
@Injectable()
export class LimitationClock {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly invoices: InvoiceRepository,
  ) {}

  /** The jurisdiction's period (LIMITATION_PERIODS), else LIMITATION_PERIOD. */
  period(jurisdiction: string | null): string {
    return (jurisdiction && this.config.LIMITATION_PERIODS[jurisdiction]) || this.config.LIMITATION_PERIOD;
  }

  /**
   * Restarts the case's invoice's limitation period from the debtor's local day of `at`; returns
   * the `limitation.restarted` touch, or nothing when the clock would not move later.
   */
  async restart(tx: Tx, caseId: string, at: Date, cause: Record<string, unknown>, actor: string): Promise<TouchInput[]> {
    const invoice = await this.invoices.lockLimitation(tx, caseId);
    if (!invoice) return [];
    const restartedOn = localDate(at, invoice.timezone);
    const period = this.period(invoice.jurisdiction);
    const next = restartLimitation(invoice.limitationDate, restartedOn, period);
    if (!next.restarted) return [];
    await this.invoices.setLimitationDate(tx, invoice.id, next.date, this.clock.now());
    return [{ kind: 'limitation.restarted', actor, data: { ...cause, restartedOn, period, previousDate: invoice.limitationDate, limitationDate: next.date } }];
  }
}
