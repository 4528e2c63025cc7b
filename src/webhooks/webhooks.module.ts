import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { JobsModule } from '../jobs/jobs.module';
import { MetricsModule } from '../metrics/metrics.module';
import { WebhookDeliveries } from './webhook-delivery.service';
import { WebhookRepository } from './webhook.repository';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSweep } from './webhook-sweep.service';
import { WebhooksController } from './webhooks.controller';
import { Webhooks } from './webhooks.service';

/** The endpoints, the delivery log and the sweep that adds delivery jobs: every role (a replay adds one in the API). */
@Module({ imports: [JobsModule], providers: [WebhookRepository, WebhookSecrets, WebhookSweep], exports: [WebhookRepository, WebhookSecrets, WebhookSweep] })
export class WebhooksModule {}

/** The admins' routes: API role only. */
@Module({ imports: [WebhooksModule], providers: [Webhooks], controllers: [WebhooksController] })
export class WebhooksApiModule {}

/** Delivering: worker role only. */
@Module({ imports: [WebhooksModule, AuditModule, MetricsModule], providers: [WebhookDeliveries] })
export class WebhooksWorkerModule {}
