import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { Transactions, type Tx } from '../database/transactions';
import { addressStatusAfter, type DeliveryStatus, judgeReport, REPORT_TOUCH } from '../domain/delivery-status';
import type { TouchInput } from '../domain/touch-kinds';
import { DispatchRepository } from './dispatch.repository';
import { type AddressSource, EmailAddressRepository } from './email/email-address.repository';

/** What a provider said about one message, in the delivery model's words. */
export interface DeliveryReport {
  status: DeliveryStatus;
  /** When the provider says it happened; null: now. */
  at: Date | null;
  providerMessageId: string | null;
  /** Kept on the touch as evidence (the provider's bounce type, its diagnostic); never an address. */
  detail: Record<string, unknown>;
  /** Who reported it: an email adapter, or the SMS provider's receipts. */
  source: AddressSource | 'sms';
}

export interface ReportOutcome {
  dispatchId: string;
  caseId: string;
  /** `accepted`: recorded (dispatch updated, one touch). `duplicate`: already so. `ignored`: an earlier report stands (the model's order). */
  status: 'accepted' | 'duplicate' | 'ignored';
  error?: string;
}

/**
 * What else an applied report changes on the case, in its transaction under the case lock (a
 * bounced demand withdraws the limitation restart it made): touches to record after the report's.
 */
export type ReportConsequences = (tx: Tx, dispatch: { id: string; caseId: string; kind: 'notice' | 'letter' }) => Promise<TouchInput[]>;

/**
 * Applies delivery reports to their dispatches, for every channel and provider: the delivery
 * model's order decides (domain/delivery-status.ts), each change is one touch, and a hard bounce
 * or a complaint marks the address, all in one transaction under the case lock.
 */
@Injectable()
export class DeliveryReports {
  constructor(
    private readonly transactions: Transactions,
    private readonly dispatches: DispatchRepository,
    private readonly addresses: EmailAddressRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Applies a report to the dispatch `find` names; undefined when it names none. */
  apply(
    find: (tx: Tx) => Promise<{ id: string; caseId: string } | undefined>,
    report: DeliveryReport,
    actor: string,
    consequences?: ReportConsequences,
  ): Promise<ReportOutcome | undefined> {
    return this.transactions.run(async (tx) => {
      const found = await find(tx);
      if (!found) return undefined;
      // The case first, as every audit writer does, then the dispatch: the same order as the step worker.
      const head = await this.audit.lockHead(tx, found.caseId);
      const dispatch = (await this.dispatches.lockDelivery(tx, found.id))!;
      const result = { dispatchId: found.id, caseId: found.caseId };
      const verdict = judgeReport(dispatch.deliveryStatus, report.status);
      if (!verdict.apply) return { ...result, status: verdict.status, ...(verdict.status === 'ignored' ? { error: verdict.reason } : {}) };
      const at = report.at ?? this.clock.now();
      await this.dispatches.setDelivery(tx, found.id, report.status, at, report.providerMessageId);
      const mark = addressStatusAfter(report.status);
      if (mark && report.source !== 'sms') await this.addresses.mark(tx, dispatch.recipient, mark, at, found.id, report.source);
      const channel = report.source === 'sms' ? 'sms' : 'email';
      const more = consequences ? await consequences(tx, { id: found.id, caseId: found.caseId, kind: dispatch.kind }) : [];
      await this.audit.record(
        tx,
        found.caseId,
        [
          {
            kind: REPORT_TOUCH[report.status],
            actor,
            channel,
            data: {
              dispatchId: found.id,
              stepId: dispatch.stepId,
              ...(channel === 'email' ? { dispatch: dispatch.kind, source: report.source } : {}),
              status: report.status,
              providerMessageId: report.providerMessageId,
              at: at.toISOString(),
              ...report.detail,
            },
          },
          ...more,
        ],
        head,
      );
      return { ...result, status: 'accepted' };
    });
  }
}
