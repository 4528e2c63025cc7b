import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { LimitationClock } from '../../cases/limitation-clock.service';
import type { Tx } from '../../database/transactions';
import type { AcknowledgmentSigned } from '../../domain/events';
import { type Applied, type EventHandler, OpenCases } from '../event-handler';

/** `acknowledgment.signed`: a signed acknowledgment of the debt (法释〔1999〕7号) restarts the limitation period from the signing day. */
@Injectable()
export class AcknowledgmentSignedHandler implements EventHandler<'acknowledgment.signed'> {
  constructor(
    private readonly audit: AuditService,
    private readonly open: OpenCases,
    private readonly limitation: LimitationClock,
  ) {}

  async apply(tx: Tx, eventId: string, data: AcknowledgmentSigned, actor: string): Promise<Applied> {
    const kase = await this.open.lock(tx, data.invoiceExternalId);
    const source = { cause: 'acknowledgment.signed', kind: 'event.received', key: { eventId } };
    const restart = await this.limitation.restart(tx, kase.id, new Date(data.signedAt), 'acknowledgment', source, actor);
    await this.audit.record(tx, kase.id, [{ kind: 'event.received', actor, data: { eventId, type: 'acknowledgment.signed' } }, ...restart]);
    return { caseId: kase.id };
  }
}
