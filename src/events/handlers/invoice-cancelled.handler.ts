import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { CaseClosing } from '../../cases/case-closing.service';
import type { Tx } from '../../database/transactions';
import type { InvoiceCancelled } from '../../domain/events';
import type { QueueEffects } from '../../domain/step';
import { type Applied, type EventHandler, OpenCases } from '../event-handler';

/** `invoice.cancelled` closes the case and cancels its waiting steps. */
@Injectable()
export class InvoiceCancelledHandler implements EventHandler<'invoice.cancelled'> {
  constructor(
    private readonly audit: AuditService,
    private readonly open: OpenCases,
    private readonly closing: CaseClosing,
  ) {}

  async apply(tx: Tx, eventId: string, data: InvoiceCancelled, actor: string, effects: QueueEffects): Promise<Applied> {
    const kase = await this.open.lock(tx, data.invoiceExternalId);
    await this.audit.record(tx, kase.id, [
      { kind: 'event.received', actor, data: { eventId, type: 'invoice.cancelled' } },
      ...(await this.closing.close(tx, kase.id, 'cancelled', 'invoice cancelled', actor, effects)),
      { kind: 'case.cancelled', actor, data: { reason: data.reason } },
    ]);
    return { caseId: kase.id };
  }
}
