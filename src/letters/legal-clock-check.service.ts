import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { CaseRepository } from '../cases/case.repository';
import { GuarantorRepository } from '../cases/guarantor.repository';
import { InvoiceRepository } from '../cases/invoice.repository';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AdvisoryLock, Locks } from '../database/locks.repository';
import { Transactions, type Tx } from '../database/transactions';
import { EscalationService } from '../escalations/escalation.service';
import { OnSweep } from '../jobs/job-handlers';
import { SweepName } from '../jobs/job-names';

const PAGE = 500;

/**
 * The daily look at the legal clocks of open cases: a `limitation.expiring` touch once per
 * limitation date when it is near, and for a guarantee near its end that is not preserved (a
 * general one, or a joint one without a delivered notice) a `guarantee.expiring` touch plus an
 * escalation to legal, in time to sue. Flags on the rows make each run idempotent.
 */
@Injectable()
export class LegalClockCheck {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly locks: Locks,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly escalations: EscalationService,
    private readonly cases: CaseRepository,
    private readonly invoices: InvoiceRepository,
    private readonly guarantors: GuarantorRepository,
  ) {}

  /** Returns the number of touches recorded. */
  @OnSweep(SweepName.LegalClocks)
  async run(): Promise<number> {
    let recorded = 0;
    for (;;) {
      const count = await this.transactions.run(async (tx) => {
        // One checker at a time across processes; the others skip this round.
        if (!(await this.locks.tryTake(tx, AdvisoryLock.LegalClocks))) return 0;
        return (await this.limitations(tx)) + (await this.guarantees(tx));
      });
      recorded += count;
      if (count < PAGE) return recorded;
    }
  }

  private async limitations(tx: Tx): Promise<number> {
    const due = await this.invoices.markLimitationsExpiring(tx, this.clock.now(), this.config.LIMITATION_WARN_DAYS, PAGE);
    for (const row of due) {
      await this.audit.record(tx, row.caseId, [
        {
          kind: 'limitation.expiring',
          actor: 'system',
          data: { invoiceExternalId: row.externalId, limitationDate: row.limitationDate, daysLeft: row.daysLeft },
        },
      ]);
    }
    return due.length;
  }

  private async guarantees(tx: Tx): Promise<number> {
    const due = await this.guarantors.markExpiring(tx, this.clock.now(), this.config.GUARANTEE_WARN_DAYS, PAGE);
    for (const row of due) {
      const kase = (await this.cases.lock(tx, row.caseId))!;
      const guarantor = { guarantorId: row.id, externalId: row.externalId, guaranteeType: row.type, guaranteeEndsOn: row.endsOn, daysLeft: row.daysLeft };
      // Legal review gets a work item; a case already under review keeps its one item.
      const reason =
        row.type === 'general'
          ? `the general guarantee of ${row.externalId} ends on ${row.endsOn}: only a suit or arbitration against the debtor within the period preserves it (PRC Civil Code art. 693(1))`
          : `the joint guarantee of ${row.externalId} ends on ${row.endsOn} and no guarantor notice has been delivered`;
      const escalation = await this.escalations.escalate(tx, kase, 'legal', 'system', { reason });
      await this.audit.record(tx, row.caseId, [{ kind: 'guarantee.expiring', actor: 'system', data: guarantor }, ...escalation.touches]);
    }
    return due.length;
  }
}
