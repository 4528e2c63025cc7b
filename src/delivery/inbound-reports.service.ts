import { Injectable, Logger } from '@nestjs/common';
import { LimitationClock } from '../cases/limitation-clock.service';
import { DeliveryReports, type ReportConsequences } from '../channels/delivery-reports.service';
import { DispatchRepository } from '../channels/dispatch.repository';
import { mapWithConcurrency } from '../common/concurrency';
import type { InboundReport } from './inbound-report';

const CONCURRENCY = 8;

export interface InboundResult {
  messageId: string | null;
  /** As for SMS receipts, plus `unknown`: no email of ours has this Message-ID (the provider sends events for every email it carries). */
  status: 'accepted' | 'duplicate' | 'ignored' | 'unknown';
  caseId?: string;
  error?: string;
}

/** Applies the email providers' reports to the dispatches their Message-IDs name, one transaction each. */
@Injectable()
export class InboundReports {
  private readonly logger = new Logger(InboundReports.name);

  constructor(
    private readonly reports: DeliveryReports,
    private readonly dispatches: DispatchRepository,
    private readonly limitation: LimitationClock,
  ) {}

  async applyAll(inbound: readonly InboundReport[], actor: string): Promise<InboundResult[]> {
    return mapWithConcurrency(inbound, CONCURRENCY, async ({ messageId, eventId, report }): Promise<InboundResult> => {
      const outcome = messageId
        ? await this.reports.apply((tx) => this.dispatches.emailByMessageId(tx, messageId), report, actor, this.consequences(report.status, actor))
        : undefined;
      if (!outcome) {
        this.logger.log(`${report.source} ${report.status} event ${eventId ?? '-'}: no email of ours has Message-ID ${messageId ?? '(none)'}`);
        return { messageId, status: 'unknown' };
      }
      return { messageId, status: outcome.status, caseId: outcome.caseId, ...(outcome.error ? { error: outcome.error } : {}) };
    });
  }

  /** A letter's email that bounced for good never reached its recipient: a restart its delivery made is withdrawn. */
  private consequences(status: InboundReport['report']['status'], actor: string): ReportConsequences | undefined {
    if (status !== 'bounced') return undefined;
    return (tx, dispatch) =>
      dispatch.kind === 'letter' ? this.limitation.withdrawBouncedRestart(tx, dispatch.caseId, dispatch.id, actor) : Promise.resolve([]);
  }
}
