import { Inject, Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Transactions } from '../database/transactions';
import { type JobContext, OnJob } from '../jobs/job-handlers';
import { JobName } from '../jobs/job-names';
import { WebhookMetrics } from '../metrics/webhook-metrics';
import { standardHeaders, webhookId, webhookPayload } from './webhook-payload';
import { type PostOutcome, postWebhook } from './webhook-post';
import { type DeliveryWork, WebhookRepository } from './webhook.repository';
import { WebhookSecrets } from './webhook-secrets';

export type DeliveryOutcome = 'delivered' | 'settled-before' | 'endpoint-disabled' | 'missing';

/**
 * Posts one delivery, signed as Standard Webhooks asks (webhook-id, webhook-timestamp,
 * webhook-signature), and records the attempt. At-least-once: a crash after the endpoint's 2xx and
 * before the row is marked sends again with the same webhook-id, for the receiver to drop.
 */
@Injectable()
export class WebhookDeliveries {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly webhooks: WebhookRepository,
    private readonly secrets: WebhookSecrets,
    private readonly audit: AuditService,
    private readonly metrics: WebhookMetrics,
    private readonly clock: Clock,
  ) {}

  @OnJob(JobName.DeliverWebhook)
  async deliver({ job, finalAttempt }: JobContext<JobName.DeliverWebhook>): Promise<DeliveryOutcome> {
    const work = await this.webhooks.work(job.data.deliveryId);
    if (!work) return 'missing';
    if (work.status !== 'pending') return 'settled-before';
    if (!work.endpointEnabled) {
      await this.webhooks.failUnsent(work.id, 'not sent: the endpoint was disabled; replay it once the endpoint is enabled again');
      return 'endpoint-disabled';
    }
    const at = this.clock.now();
    const outcome = await this.post(work, at);
    const final = outcome.ok || outcome.permanent || finalAttempt;
    const status = outcome.ok ? 'delivered' : final ? 'failed' : 'pending';
    const disabled = await this.transactions.run(async (tx) => {
      // The case first, as every audit writer locks it, in case this failure disables the endpoint.
      const head = status === 'failed' ? await this.audit.lockHead(tx, work.caseId) : undefined;
      const attempt = await this.webhooks.settleAttempt(tx, work.id, status, outcome.statusCode, outcome.error, at);
      if (attempt === undefined) return false;
      await this.webhooks.logAttempt(tx, work.id, 'endpoint', { ...outcome, attempt, at });
      if (status === 'pending') return false;
      const reason = `${this.config.WEBHOOK_DISABLE_AFTER} deliveries in a row failed; the last: ${outcome.error}`;
      const counted = await this.webhooks.countOutcome(tx, work.endpointId, status === 'failed', this.config.WEBHOOK_DISABLE_AFTER, at, reason);
      if (!counted.disabled) return false;
      await this.audit.record(
        tx,
        work.caseId,
        [{ kind: 'webhook.disabled', actor: 'system', channel: 'webhook', data: { endpointId: work.endpointId, deliveryId: work.id, reason } }],
        head,
      );
      return true;
    });
    this.metrics.attempts.inc({ target: 'endpoint', outcome: outcome.ok ? 'delivered' : 'failed' });
    if (disabled) this.metrics.disabled.inc();
    if (outcome.ok) return 'delivered';
    // UnrecoverableError skips the remaining attempts; the job stays failed for operators either way.
    throw outcome.permanent ? new UnrecoverableError(outcome.error!) : new Error(outcome.error!);
  }

  private async post(work: DeliveryWork, at: Date): Promise<PostOutcome> {
    const secret = this.secrets.open(work.endpointId, work.secretSealed);
    if (!secret) {
      const error = "the endpoint's secret does not open with this process's WEBHOOK_SECRETS_KEY";
      return { ok: false, statusCode: null, error, durationMs: 0, excerpt: null, permanent: true };
    }
    const body = JSON.stringify(webhookPayload(work.touch));
    const headers = standardHeaders(new Webhook(secret), webhookId(work.id), at, body);
    return postWebhook(work.url, headers, body, {
      timeoutMs: this.config.WEBHOOK_TIMEOUT,
      allowPrivate: this.config.WEBHOOK_ALLOW_PRIVATE === 'on',
      keepExcerpt: true,
      receiver: 'endpoint',
    });
  }
}
