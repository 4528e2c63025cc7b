import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { AuditService } from '../../audit/audit.service';
import { Clock } from '../../common/clock';
import { mapWithConcurrency } from '../../common/concurrency';
import { NotFound } from '../../common/errors';
import { describeIssues } from '../../common/zod-validation';
import { Transactions } from '../../database/transactions';
import { DispatchRepository } from '../dispatch.repository';

export const MAX_RECEIPTS_PER_REQUEST = 1000;
const BATCH_CONCURRENCY = 8;
export const DELIVERY_STATUSES = ['delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One delivery report from the SMS provider; `reference` is the dispatch id we sent. */
export const smsReceipt = z.strictObject({
  reference: z.uuid('must be the reference sent with the message (a dispatch id)'),
  status: z.enum(DELIVERY_STATUSES, { error: `must be one of ${DELIVERY_STATUSES.join(', ')}` }),
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

/** Applies SMS delivery receipts to their dispatches, each change a `notice.delivered` touch. */
@Injectable()
export class SmsReceipts {
  constructor(
    private readonly transactions: Transactions,
    private readonly dispatches: DispatchRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Applies one receipt; throws NotFound when no SMS dispatch has the reference. */
  async apply(receipt: SmsReceipt, actor: string): Promise<ReceiptResult> {
    return this.transactions.run(async (tx) => {
      const caseId = await this.dispatches.caseOfSms(tx, receipt.reference);
      if (!caseId) throw new NotFound('SMS dispatch', receipt.reference);
      // The case first, as every audit writer does, then the dispatch: the same order as the step worker.
      const head = await this.audit.lockHead(tx, caseId);
      const dispatch = (await this.dispatches.lockDelivery(tx, receipt.reference))!;
      const result = { reference: receipt.reference, caseId: dispatch.caseId };
      // Providers resend receipts and deliver them out of order: the same status is a no-op, and a
      // delivered message stays delivered (a failure first and a success later is a provider retry).
      if (dispatch.deliveryStatus === receipt.status) return { ...result, status: 'duplicate' };
      if (dispatch.deliveryStatus === 'delivered') return { ...result, status: 'ignored', error: 'the dispatch is already delivered' };
      const at = receipt.at ? new Date(receipt.at) : this.clock.now();
      const providerMessageId = receipt.providerMessageId ?? null;
      await this.dispatches.setDelivery(tx, receipt.reference, receipt.status, at, providerMessageId);
      await this.audit.record(
        tx,
        dispatch.caseId,
        [
          {
            kind: 'notice.delivered',
            actor,
            channel: 'sms',
            data: {
              dispatchId: receipt.reference,
              stepId: dispatch.stepId,
              status: receipt.status,
              providerMessageId,
              at: at.toISOString(),
              error: receipt.error ?? null,
            },
          },
        ],
        head,
      );
      return { ...result, status: 'accepted' };
    });
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
