import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { formatMinorUnits } from '../domain/money';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Transactions } from '../database/transactions';
import { trimRate } from '../domain/late-fee';
import { type JobContext, OnJob } from '../jobs/job-handlers';
import { JobName } from '../jobs/job-names';
import { PlacementRepository, type PlacementRow } from './placement.repository';
import { DELIVERY_HEADER, SIGNATURE_HEADER, signWebhook } from './webhook-signature';

/** What the agency receives: the case it takes over, with the debtor's contact data (by design). */
export interface AgencyPlacementWebhook {
  type: 'agency.placement';
  placementId: string;
  caseId: string;
  agency: string;
  commissionRate: string;
  balance: string;
  currency: string;
  debtor: { externalId: string; name: string; email: string | null; phone: string | null; address: Record<string, string> | null };
  invoice: { externalId: string; contractRef: string | null; dueDate: string };
  placedAt: string;
}

export type WebhookOutcome = 'sent' | 'already-sent' | 'not-configured' | 'missing';

const TIMEOUT_MS = 10_000;
/** Client errors that a later attempt may cure; any other 4xx (a bad signature, a bad URL) will not be. */
const RETRYABLE_4XX = new Set([408, 425, 429]);

/** A failed delivery: `permanent` ends the retries at once. Never carries the body or the receiver's answer. */
class DeliveryFailed extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** Builds, signs and posts one placement's webhook, and records the result on the placement and the case. */
@Injectable()
export class AgencyWebhookDelivery {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly placements: PlacementRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /**
   * At-least-once: a crash after the agency's 2xx and before the row is marked sends the same
   * delivery again, with the same X-Dunning-Delivery id for the agency to drop. `agency.notified`
   * is recorded once, by the attempt that moves the row to 'sent'.
   */
  @OnJob(JobName.DeliverAgencyPlacement)
  async deliver({ job, finalAttempt }: JobContext<JobName.DeliverAgencyPlacement>): Promise<WebhookOutcome> {
    const { placementId } = job.data;
    const placement = await this.placements.get(placementId);
    if (!placement) return 'missing';
    if (placement.webhookStatus === 'sent') return 'already-sent';
    if (placement.webhookStatus === 'none') return 'not-configured';
    const url = this.config.AGENCY_WEBHOOK_URL;
    const secret = this.config.AGENCY_WEBHOOK_SECRET;
    try {
      if (!url || !secret) throw new DeliveryFailed('AGENCY_WEBHOOK_URL is not set in this worker', true);
      const status = await this.post(url, secret, placement);
      await this.markSent(placement, status);
      return 'sent';
    } catch (error) {
      const failure = error instanceof DeliveryFailed ? error : new DeliveryFailed(describe(error), false);
      const final = finalAttempt || failure.permanent;
      await this.placements.markFailed(placementId, failure.message, final);
      // UnrecoverableError skips the remaining attempts; the job stays failed for operators either way.
      throw failure.permanent ? new UnrecoverableError(failure.message) : failure;
    }
  }

  /** Resolves with the 2xx status; anything else is a DeliveryFailed. */
  private async post(url: string, secret: string, placement: PlacementRow): Promise<number> {
    const body = JSON.stringify(payload(placement));
    const timestamp = Math.floor(this.clock.now().getTime() / 1000);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
          [DELIVERY_HEADER]: placement.id,
        },
        body,
        // A redirect would re-send personal data to an address nobody configured.
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new DeliveryFailed(describe(error), false);
    }
    // The answer is not read: a receiver may echo the body, and it must not reach the logs or the row.
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return response.status;
    const permanent = response.status >= 400 && response.status < 500 && !RETRYABLE_4XX.has(response.status);
    throw new DeliveryFailed(`the agency answered HTTP ${response.status}`, permanent);
  }

  private async markSent(placement: PlacementRow, status: number): Promise<void> {
    await this.transactions.run(async (tx) => {
      // The case first, as every audit writer locks it; then the placement.
      const head = await this.audit.lockHead(tx, placement.caseId);
      const attempts = await this.placements.markSent(tx, placement.id, this.clock.now());
      if (attempts === undefined) return;
      await this.audit.record(
        tx,
        placement.caseId,
        [
          {
            kind: 'agency.notified',
            actor: 'system',
            channel: 'webhook',
            data: { placementId: placement.id, agency: placement.agency, delivery: placement.id, status, attempts },
          },
        ],
        head,
      );
    });
  }
}

function payload(row: PlacementRow): AgencyPlacementWebhook {
  return {
    type: 'agency.placement',
    placementId: row.id,
    caseId: row.caseId,
    agency: row.agency,
    commissionRate: trimRate(row.commissionRate),
    balance: formatMinorUnits(BigInt(row.balanceMinor), row.currency),
    currency: row.currency,
    debtor: row.debtor,
    invoice: { externalId: row.invoiceRef, contractRef: row.contractRef, dueDate: row.dueDate },
    placedAt: row.placedAt.toISOString(),
  };
}

/** A transport error's code or name, never a body. */
function describe(error: unknown): string {
  const { name, message, cause } = (error ?? {}) as { name?: string; message?: string; cause?: { code?: string } };
  if (name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  return cause?.code ? `${message ?? 'request failed'} (${cause.code})` : (message ?? String(error));
}
