import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { updateReturning } from '../database/sql';
import { EscalationService } from '../escalations/escalation.service';
import { OnSweep } from '../jobs/job-handlers';
import { SweepName } from '../jobs/job-names';

const PAGE = 500;
const OPEN = `c.status IN ('active', 'on_hold')`;
/** Days left until a date, on the debtor's calendar. */
const daysLeft = (column: string) => `(${column} - ($1::timestamptz AT TIME ZONE d.timezone)::date)`;

/**
 * The daily look at the legal clocks of open cases: a `limitation.expiring` touch once per
 * limitation date when it is near, and for a guarantee near its end without a delivered notice a
 * `guarantee.expiring` touch plus an escalation to legal. Flags on the rows make each run idempotent.
 */
@Injectable()
export class LegalClockCheck {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly escalations: EscalationService,
  ) {}

  /** Returns the number of touches recorded. */
  @OnSweep(SweepName.LegalClocks)
  async run(): Promise<number> {
    let recorded = 0;
    for (;;) {
      const count = await this.dataSource.transaction(async (m) => {
        // One checker at a time across processes; the others skip this round.
        const [{ locked }] = await m.query('SELECT pg_try_advisory_xact_lock(727005) AS locked');
        if (!locked) return 0;
        return (await this.limitations(m)) + (await this.guarantees(m));
      });
      recorded += count;
      if (count < PAGE) return recorded;
    }
  }

  private async limitations(m: EntityManager): Promise<number> {
    const now = this.clock.now();
    const due = await updateReturning<{ case_id: string; external_id: string; limitation_date: string; days_left: number }>(
      m,
      `UPDATE invoices i SET limitation_warned_for = i.limitation_date
       FROM cases c JOIN debtors d ON d.id = c.debtor_id
       WHERE c.invoice_id = i.id AND ${OPEN} AND i.id IN (
         SELECT i2.id FROM invoices i2 JOIN cases c ON c.invoice_id = i2.id JOIN debtors d ON d.id = c.debtor_id
         WHERE ${OPEN} AND i2.limitation_warned_for IS DISTINCT FROM i2.limitation_date AND ${daysLeft('i2.limitation_date')} BETWEEN 0 AND $2
         LIMIT ${PAGE})
       RETURNING c.id AS case_id, i.external_id, to_char(i.limitation_date, 'YYYY-MM-DD') AS limitation_date, ${daysLeft('i.limitation_date')} AS days_left`,
      [now, this.config.LIMITATION_WARN_DAYS],
    );
    for (const row of due) {
      await this.audit.record(m, row.case_id, [
        {
          kind: 'limitation.expiring',
          actor: 'system',
          data: { invoiceExternalId: row.external_id, limitationDate: row.limitation_date, daysLeft: row.days_left },
        },
      ]);
    }
    return due.length;
  }

  private async guarantees(m: EntityManager): Promise<number> {
    const now = this.clock.now();
    const due = await updateReturning<{ id: string; case_id: string; external_id: string; ends_on: string; days_left: number }>(
      m,
      `UPDATE guarantors g SET warned_at = $1
       FROM cases c JOIN debtors d ON d.id = c.debtor_id
       WHERE c.id = g.case_id AND ${OPEN} AND g.id IN (
         SELECT g2.id FROM guarantors g2 JOIN cases c ON c.id = g2.case_id JOIN debtors d ON d.id = c.debtor_id
         WHERE ${OPEN} AND g2.notified_on IS NULL AND g2.warned_at IS NULL AND ${daysLeft('g2.guarantee_ends_on')} BETWEEN 0 AND $2
         LIMIT ${PAGE})
       RETURNING g.id, g.case_id, g.external_id, to_char(g.guarantee_ends_on, 'YYYY-MM-DD') AS ends_on, ${daysLeft('g.guarantee_ends_on')} AS days_left`,
      [now, this.config.GUARANTEE_WARN_DAYS],
    );
    for (const row of due) {
      const guarantor = { guarantorId: row.id, externalId: row.external_id, guaranteeEndsOn: row.ends_on, daysLeft: row.days_left };
      // Legal review gets a work item; a case already under review keeps its one item.
      const escalation = await this.escalations.escalate(m, row.case_id, 'legal', 'system', {
        reason: `the guarantee of ${row.external_id} ends on ${row.ends_on} and no guarantor notice has been delivered`,
      });
      await this.audit.record(m, row.case_id, [{ kind: 'guarantee.expiring', actor: 'system', data: guarantor }, ...escalation.touches]);
    }
    return due.length;
  }
}
