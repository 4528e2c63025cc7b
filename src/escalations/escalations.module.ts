import { Global, Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { AgencyWebhookDelivery } from './agency-webhook-delivery';
import { AgencyWebhooks } from './agency-webhooks';
import { EscalationService } from './escalation.service';
import { PlacementsController, WorkItemsController } from './escalations.controller';
import { Placements } from './placements.service';
import { WorkItems } from './work-items.service';

/** Escalating a case and queueing the agency's webhook: the step worker and the API both escalate. */
@Global()
@Module({
  imports: [JobsModule],
  providers: [EscalationService, AgencyWebhooks],
  exports: [EscalationService, AgencyWebhooks],
})
export class EscalationsModule {}

/** The work queue and placement routes: API role only. */
@Module({ providers: [WorkItems, Placements], controllers: [WorkItemsController, PlacementsController] })
export class EscalationsApiModule {}

/** Delivering the agency's webhooks: worker role only. */
@Module({ providers: [AgencyWebhookDelivery] })
export class EscalationsWorkerModule {}
