import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from './metrics.service';

/** Outbound webhooks: attempts by outcome, and endpoints switched off for failing. */
@Injectable()
export class WebhookMetrics {
  readonly attempts: Counter<'target' | 'outcome'>;
  readonly disabled: Counter;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.attempts = new Counter({
      name: 'dunning_webhook_attempts_total',
      help: 'Webhook POSTs by target (endpoint, agency) and outcome (delivered, failed).',
      labelNames: ['target', 'outcome'],
      registers,
    });
    this.disabled = new Counter({
      name: 'dunning_webhook_endpoints_disabled_total',
      help: 'Webhook endpoints disabled after WEBHOOK_DISABLE_AFTER failed deliveries in a row.',
      registers,
    });
  }
}
