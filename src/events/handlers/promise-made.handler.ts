import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { Commitments } from '../../cases/commitments.service';
import { DomainError } from '../../common/errors';
import type { Tx } from '../../database/transactions';
import type { PromiseMade } from '../../domain/events';
import type { QueueEffects } from '../../domain/step';
import { type Applied, type EventHandler, EventRejected, OpenCases } from '../event-handler';

/**
 * Why the case cannot take the promise, as the event says it: the commitment names its fields
 * (`amount: …`, `dueDate: …`), which sit under `data` here; a refusal that names none (an active
 * payment plan) is about the case the invoice leads to.
 */
function rejection(error: DomainError): string {
  return error.namesField ? error.within('data').message : `data.invoiceExternalId: ${error.message}`;
}

/** `promise.made`: a promise to pay (from the debtor's channel or an agent's system) pauses the ladder until its date plus grace. */
@Injectable()
export class PromiseMadeHandler implements EventHandler<'promise.made'> {
  constructor(
    private readonly audit: AuditService,
    private readonly open: OpenCases,
    private readonly commitments: Commitments,
  ) {}

  async apply(tx: Tx, eventId: string, data: PromiseMade, actor: string, effects: QueueEffects): Promise<Applied> {
    const kase = await this.open.lock(tx, data.invoiceExternalId);
    if (data.currency && data.currency !== kase.currency)
      throw new EventRejected(`data.currency: promise in ${data.currency} but the case is in ${kase.currency}`);
    try {
      const { touches } = await this.commitments.promise(tx, kase, data.amount, data.dueDate, actor, `event ${eventId}`, effects);
      await this.audit.record(tx, kase.id, [{ kind: 'event.received', actor, data: { eventId, type: 'promise.made' } }, ...touches]);
    } catch (error) {
      if (error instanceof DomainError) throw new EventRejected(rejection(error));
      throw error;
    }
    return { caseId: kase.id };
  }
}
