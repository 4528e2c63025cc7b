import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { JobsModule } from '../jobs/jobs.module';
import { MetricsModule } from '../metrics/metrics.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AgencyWebhookDelivery } from './agency-webhook-delivery';
import { AgencyWebhooks } from './agency-webhooks';
import { EscalationService } from './escalation.service';
import { PlacementRepository } from './placement.repository';
import { PlacementsController } from './placements.controller';
import { Placements } from './placements.service';
import { WorkItemRepository } from './work-item.repository';

/** Escalating a case and queueing the agency's webhook: the step worker, the case holds and the API all escalate. */
@Module({
  imports: [JobsModule],
  providers: [WorkItemRepository, PlacementRepository, EscalationService, AgencyWebhooks],
  exports: [WorkItemRepository, PlacementRepository, EscalationService],
})
export class EscalationsModule {}

/** The placements listing and the agency's CSV file: API role only. */
@Module({ imports: [EscalationsModule], providers: [Placements], controllers: [PlacementsController] })
export class EscalationsApiModule {}

/** Delivering the agency's webhooks, by the webhooks' sender and into their attempts log: worker role only. */
@Module({ imports: [EscalationsModule, AuditModule, MetricsModule, WebhooksModule], providers: [AgencyWebhookDelivery] })
export class EscalationsWorkerModule {}
