import { Injectable } from '@nestjs/common';
import { DebtorFlags } from '../../cases/debtor-flags.service';
import { DebtorRepository } from '../../cases/debtor.repository';
import { Clock } from '../../common/clock';
import type { Tx } from '../../database/transactions';
import type { DebtorUpdated } from '../../domain/events';
import type { QueueEffects } from '../../domain/step';
import { type Applied, type EventHandler, EventRejected } from '../event-handler';

/**
 * `debtor.updated` replaces the contact details it names and sets or clears the debtor's flags,
 * placing or releasing their holds on every open case. Each open case records what changed
 * (field names, not values).
 */
@Injectable()
export class DebtorUpdatedHandler implements EventHandler<'debtor.updated'> {
  constructor(
    private readonly clock: Clock,
    private readonly debtors: DebtorRepository,
    private readonly flags: DebtorFlags,
  ) {}

  async apply(tx: Tx, eventId: string, data: DebtorUpdated, actor: string, effects: QueueEffects): Promise<Applied> {
    const { externalId, ceaseContact, deceased, bankrupt, ...changes } = data.debtor;
    const debtorId = await this.debtors.idOf(tx, externalId);
    if (!debtorId) throw new EventRejected(`data.debtor.externalId: no debtor ${externalId}`);
    await this.debtors.update(tx, debtorId, changes, this.clock.now());
    await this.flags.apply(tx, debtorId, { 'cease-contact': ceaseContact, deceased, bankrupt }, actor, effects, {
      kind: 'debtor.updated',
      actor,
      data: { eventId, fields: Object.keys(data.debtor).filter((key) => key !== 'externalId') },
    });
    return {};
  }
}
