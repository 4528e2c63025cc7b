import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { CaseHolds } from '../../cases/case-holds.service';
import type { Tx } from '../../database/transactions';
import type { DisputeEvent } from '../../domain/events';
import type { QueueEffects } from '../../domain/step';
import { type Applied, type EventHandler, EventRejected, OpenCases } from '../event-handler';

/** `dispute.resolved` releases the dispute; releasing the last hold resumes the ladder where it paused. */
@Injectable()
export class DisputeResolvedHandler implements EventHandler<'dispute.resolved'> {
  constructor(
    private readonly audit: AuditService,
    private readonly open: OpenCases,
    private readonly holds: CaseHolds,
  ) {}

  async apply(tx: Tx, eventId: string, data: DisputeEvent, actor: string, effects: QueueEffects): Promise<Applied> {
    const kase = await this.open.lock(tx, data.invoiceExternalId);
    const released = await this.holds.release(tx, kase, { kinds: ['dispute'] }, data.reason, actor, effects);
    if (released.length === 0) throw new EventRejected(`data.invoiceExternalId: no open dispute on invoice ${data.invoiceExternalId}`);
    await this.audit.record(tx, kase.id, [{ kind: 'event.received', actor, data: { eventId, type: 'dispute.resolved' } }, ...released]);
    return { caseId: kase.id };
  }
}
