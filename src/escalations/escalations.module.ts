import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { AgencyWebhookDelivery, AgencyWebhookProcessor } from './agency-webhook.processor';
import { AgencyWebhooks, WEBHOOKS_QUEUE } from './agency-webhooks';
import { EscalationService } from './escalation.service';
import { PlacementsController, WorkItemsController } from './escalations.controller';
import { Placements } from './placements.service';
import { WorkItems } from './work-items.service';

/** Escalating a case and queueing the agency's webhook: the step worker and the API both escalate. */
@Global()
@Module({
  imports: [BullModule.registerQueue({ name: WEBHOOKS_QUEUE })],
  providers: [EscalationService, AgencyWebhooks],
  exports: [EscalationService, AgencyWebhooks, BullModule],
})
export class EscalationsModule {}

/** The work queue and placement routes: API role only. */
@Module({ providers: [WorkItems, Placements], controllers: [WorkItemsController, PlacementsController] })
export class EscalationsApiModule {}

/** Delivering the agency's webhooks: worker role only. */
@Module({ providers: [AgencyWebhookDelivery, AgencyWebhookProcessor] })
export class EscalationsWorkerModule {}
