import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/transactions';
import { localDate } from '../domain/calendar';
import type { TouchInput } from '../domain/touch-kinds';
import { CaseRepository, type CaseTerms } from './case.repository';

/** The contract behind a case, which a termination letter or a `terminate-contract` step ends. */
@Injectable()
export class Contracts {
  constructor(private readonly cases: CaseRepository) {}

  /** Ends the case's contract (once) on a locked case; returns the `contract.terminated` touch, or nothing. */
  async terminate(tx: Tx, terms: CaseTerms, actor: string, at: Date, cause: Record<string, unknown>): Promise<TouchInput[]> {
    if (terms.contractStatus !== 'active') return [];
    await this.cases.terminateContract(tx, terms.id, at);
    terms.contractStatus = 'terminated';
    return [{ kind: 'contract.terminated', actor, data: { ...cause, contractRef: terms.contractRef, effectiveDate: localDate(at, terms.timezone) } }];
  }
}
