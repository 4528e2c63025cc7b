import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { mapWithConcurrency } from '../../common/concurrency';
import { NotFound } from '../../common/errors';
import { describeIssues } from '../../common/zod-validation';
import type { DeliveryStatus } from '../../domain/delivery-status';
import { DeliveryReports } from '../delivery-reports.service';
import { DispatchRepository } from '../dispatch.repository';

export const MAX_RECEIPTS_PER_REQUEST = 1000;
const BATCH_CONCURRENCY = 8;
/** The statuses an SMS receipt reports, in the delivery model's words. */
export const SMS_DELIVERY_STATUSES = ['delivered', 'failed'] as const satisfies readonly DeliveryStatus[];

/** One delivery report from the SMS provider; `reference` is the dispatch id we sent. */
export const smsReceipt = z.strictObject({
  reference: z.uuid('must be the reference sent with the message (a dispatch id)'),
  status: z.enum(SMS_DELIVERY_STATUSES, { error: `must be one of ${SMS_DELIVERY_STATUSES.join(', ')}` }),
  providerMessageId: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  at: z
    .string()
    .refine((value) => DateTime.fromISO(value, { setZone: true }).isValid && /(Z|[+-]\d{2}:?\d{2})$/.test(value), 'must be an ISO-8601 instant with an offset')
    .optional(),
  // Kept as evidence on the touch; bounded because it is the provider's free text.
  error: z.string().trim().max(500).optional(),
});
export type SmsReceipt = z.output<typeof smsReceipt>;

export interface ReceiptResult {
  reference: string | null;
  /**
   * `accepted`: recorded (dispatch updated, one touch). `duplicate`: this status was already
   * recorded. `ignored`: the dispatch is already delivered, a later failure report cannot undo that.
   * `rejected`: invalid, or no SMS dispatch has this reference (batch only; a lone receipt is 400/404).
   */
  status: 'accepted' | 'duplicate' | 'ignored' | 'rejected';
  caseId?: string;
  error?: string;
}

/** Applies SMS delivery receipts to their dispatches through the delivery model, each change a `notice.delivered` touch. */
@Injectable()
export class SmsReceipts {
  constructor(
    private readonly reports: DeliveryReports,
    private readonly dispatches: DispatchRepository,
  ) {}

  /** Applies one receipt; throws NotFound when no SMS dispatch has the reference. */
  async apply(receipt: SmsReceipt, actor: string): Promise<ReceiptResult> {
    const report = {
      status: receipt.status,
      at: receipt.at ? new Date(receipt.at) : null,
      providerMessageId: receipt.providerMessageId ?? null,
      detail: { error: receipt.error ?? null },
      source: 'sms' as const,
    };
    const outcome = await this.reports.apply(
      async (tx) => {
        const caseId = await this.dispatches.caseOfSms(tx, receipt.reference);
        return caseId ? { id: receipt.reference, caseId } : undefined;
      },
      report,
      actor,
    );
    if (!outcome) throw new NotFound('SMS dispatch', receipt.reference);
    return { reference: receipt.reference, caseId: outcome.caseId, status: outcome.status, ...(outcome.error ? { error: outcome.error } : {}) };
  }

  /**
   * Applies a batch, one transaction per receipt, so a bad receipt never blocks its neighbours.
   * Receipts for the same message meet at the case lock; whatever their order, the outcome is the same.
   */
  async applyAll(raw: readonly unknown[], actor: string): Promise<ReceiptResult[]> {
    return mapWithConcurrency(raw, BATCH_CONCURRENCY, async (item): Promise<ReceiptResult> => {
      const reference = typeof (item as { reference?: unknown })?.reference === 'string' ? (item as { reference: string }).reference : null;
      const parsed = smsReceipt.safeParse(item);
      if (!parsed.success) {
        return {
          reference,
          status: 'rejected',
          error: describeIssues(parsed.error.issues, 'receipt')
            .map((d) => `${d.field}: ${d.reason}`)
            .join('; '),
        };
      }
      try {
        return await this.apply(parsed.data, actor);
      } catch (error) {
        if (error instanceof NotFound) return { reference, status: 'rejected', error: error.message };
        throw error;
      }
    });
  }
}
