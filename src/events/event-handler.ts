import { Injectable } from '@nestjs/common';
import { CaseRepository, type CommittedCase } from '../cases/case.repository';
import type { Tx } from '../database/transactions';
import type { EventData, EventType } from '../domain/events';
import type { QueueEffects } from '../domain/step';

/** An event the service understood but cannot apply (unknown invoice, currency mismatch…): the answer names the field. */
export class EventRejected extends Error {}

export interface Applied {
  /** The case the event applied to; none for a debtor update (it may touch several). */
  caseId?: string;
  duplicate?: boolean;
}

/** Applies one event of a type in the caller's transaction, which holds the event's lane; records its touches. */
export interface EventHandler<T extends EventType> {
  apply(tx: Tx, eventId: string, data: EventData[T], actor: string, effects: QueueEffects): Promise<Applied>;
}

/** The open case an event's invoice names, locked; a rejection when there is none. */
@Injectable()
export class OpenCases {
  constructor(private readonly cases: CaseRepository) {}

  async lock(tx: Tx, invoiceExternalId: string): Promise<CommittedCase> {
    const kase = await this.cases.lockOpenOfInvoice(tx, invoiceExternalId);
    if (!kase) throw new EventRejected(`data.invoiceExternalId: no open case for invoice ${invoiceExternalId}`);
    return kase;
  }
}
