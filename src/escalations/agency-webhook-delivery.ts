import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { formatMinorUnits } from '../domain/money';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Transactions } from '../database/transactions';
import { trimRate } from '../domain/late-fee';
import { type JobContext, OnJob } from '../jobs/job-handlers';
import { JobName } from '../jobs/job-names';
import { WebhookMetrics } from '../metrics/webhook-metrics';
import { standardHeaders, webhookId } from '../webhooks/webhook-payload';
import { type PostOutcome, postWebhook } from '../webhooks/webhook-post';
import { WebhookRepository } from '../webhooks/webhook.repository';
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
    private readonly attempts: WebhookRepository,
    private readonly metrics: WebhookMetrics,
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
    const attempt = placement.webhookAttempts + 1;
    const at = this.clock.now();
    try {
      if (!url || !secret) throw new DeliveryFailed('AGENCY_WEBHOOK_URL is not set in this worker', true);
      const outcome = await this.post(url, secret, placement, at);
      this.metrics.attempts.inc({ target: 'agency', outcome: outcome.ok ? 'delivered' : 'failed' });
      if (!outcome.ok) {
        await this.attempts.logAttempt(undefined, placement.id, 'agency', { ...outcome, attempt, at });
        throw new DeliveryFailed(outcome.error!, outcome.permanent);
      }
      await this.markSent(placement, outcome, at);
      return 'sent';
    } catch (error) {
      const failure = error instanceof DeliveryFailed ? error : new DeliveryFailed((error as Error).message, false);
      const final = finalAttempt || failure.permanent;
      await this.placements.markFailed(placementId, failure.message, final);
      // UnrecoverableError skips the remaining attempts; the job stays failed for operators either way.
      throw failure.permanent ? new UnrecoverableError(failure.message) : failure;
    }
  }

  /**
   * The agency's own signature and delivery header, and beside them the Standard Webhooks headers
   * (keyed with the secret's bytes) for an agency that moves to that verifier; posted by the
   * webhooks' sender. The answer is not kept (a receiver may echo the body).
   */
  private post(url: string, secret: string, placement: PlacementRow, at: Date): Promise<PostOutcome> {
    const body = JSON.stringify(payload(placement));
    const timestamp = Math.floor(at.getTime() / 1000);
    const headers = {
      [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
      [DELIVERY_HEADER]: placement.id,
      ...standardHeaders(new Webhook(secret, { format: 'raw' }), webhookId(placement.id), at, body),
    };
    // The URL is the operator's own setting, so it may be an in-house address.
    return postWebhook(url, headers, body, { timeoutMs: TIMEOUT_MS, allowPrivate: true, keepExcerpt: false, receiver: 'agency' });
  }

  private async markSent(placement: PlacementRow, outcome: PostOutcome, at: Date): Promise<void> {
    const status = outcome.statusCode;
    await this.transactions.run(async (tx) => {
      // The case first, as every audit writer locks it; then the placement.
      const head = await this.audit.lockHead(tx, placement.caseId);
      const attempts = await this.placements.markSent(tx, placement.id, this.clock.now());
      if (attempts === undefined) return;
      await this.attempts.logAttempt(tx, placement.id, 'agency', { ...outcome, attempt: attempts, at });
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
