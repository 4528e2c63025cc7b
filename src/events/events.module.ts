import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CasesModule } from '../cases/cases.module';
import { PoliciesModule } from '../policies/policies.module';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { OpenCases } from './event-handler';
import { EventRepository } from './event.repository';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';
import { AcknowledgmentSignedHandler } from './handlers/acknowledgment-signed.handler';
import { DebtorUpdatedHandler } from './handlers/debtor-updated.handler';
import { DisputeOpenedHandler } from './handlers/dispute-opened.handler';
import { DisputeResolvedHandler } from './handlers/dispute-resolved.handler';
import { InvoiceCancelledHandler } from './handlers/invoice-cancelled.handler';
import { InvoiceOverdueHandler } from './handlers/invoice-overdue.handler';
import { PaymentReceivedHandler } from './handlers/payment-received.handler';
import { PromiseMadeHandler } from './handlers/promise-made.handler';

const HANDLERS = [
  InvoiceOverdueHandler,
  PaymentReceivedHandler,
  InvoiceCancelledHandler,
  DisputeOpenedHandler,
  DisputeResolvedHandler,
  AcknowledgmentSignedHandler,
  DebtorUpdatedHandler,
  PromiseMadeHandler,
];

/** `POST /v1/events`: validation, idempotency, and one handler per event type. */
@Module({
  imports: [AuditModule, CasesModule, PoliciesModule, SchedulingModule],
  providers: [EventRepository, OpenCases, ...HANDLERS, EventsService],
  controllers: [EventsController],
})
export class EventsModule {}
