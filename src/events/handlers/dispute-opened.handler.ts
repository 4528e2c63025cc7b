import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { CaseHolds } from '../../cases/case-holds.service';
import type { Tx } from '../../database/transactions';
import type { DisputeEvent } from '../../domain/events';
import type { QueueEffects } from '../../domain/step';
import { type Applied, type EventHandler, OpenCases } from '../event-handler';

/** `dispute.opened` pauses the ladder: the case goes on hold and its step jobs are withdrawn. */
@Injectable()
export class DisputeOpenedHandler implements EventHandler<'dispute.opened'> {
  constructor(
    private readonly audit: AuditService,
    private readonly open: OpenCases,
    private readonly holds: CaseHolds,
  ) {}

  async apply(tx: Tx, eventId: string, data: DisputeEvent, actor: string, effects: QueueEffects): Promise<Applied> {
    const kase = await this.open.lock(tx, data.invoiceExternalId);
    const { touches } = await this.holds.place(tx, kase, 'dispute', data.reason, actor, effects);
    await this.audit.record(tx, kase.id, [{ kind: 'event.received', actor, data: { eventId, type: 'dispute.opened' } }, ...touches]);
    return { caseId: kase.id };
  }
}
