import { Injectable } from '@nestjs/common';
import { Transactions } from '../database/transactions';
import { noQueueEffects } from '../domain/step';
import { DebtorFlags } from './debtor-flags.service';
import { DebtorRepository } from './debtor.repository';

const ACTOR = 'debtor (unsubscribe link)';

/** The debtor's opt-out: sets cease-contact, which stops notices on every case (letters go by post only). */
@Injectable()
export class Unsubscribes {
  constructor(
    private readonly transactions: Transactions,
    private readonly debtors: DebtorRepository,
    private readonly flags: DebtorFlags,
  ) {}

  async exists(token: string): Promise<boolean> {
    return (await this.debtors.idOfUnsubscribeToken(undefined, token)) !== undefined;
  }

  /** Idempotent: a second click changes nothing. No queue effect: cease-contact pauses no step. */
  async unsubscribe(token: string): Promise<boolean> {
    return this.transactions.run(async (tx) => {
      const debtorId = await this.debtors.idOfUnsubscribeToken(tx, token);
      if (!debtorId) return false;
      await this.flags.apply(tx, debtorId, { 'cease-contact': true }, ACTOR, noQueueEffects(), {
        kind: 'debtor.updated',
        actor: ACTOR,
        data: { fields: ['ceaseContact'], source: 'unsubscribe link' },
      });
      return true;
    });
  }
}
