import { Injectable } from '@nestjs/common';
import { TouchRepository } from '../audit/touch.repository';
import { Clock } from '../common/clock';
import type { Tx } from '../database/transactions';
import { type Account, type CaseMoney, caseAccount } from '../domain/account';
import { localDate } from '../domain/calendar';
import { type LegalRecord, legalRecord } from '../domain/legal-record';
import { CaseRepository } from './case.repository';

/** Where a case stands now: its legal record (from its touches) and its account (from its money). */
export interface Standing {
  record: LegalRecord;
  account: Account;
  /** The debtor's calendar day it was read on. */
  today: string;
}

/** Reads a case's standing for the steps, letters, batches and the API, all from the one pair of pure functions. */
@Injectable()
export class CaseStandings {
  constructor(
    private readonly clock: Clock,
    private readonly touches: TouchRepository,
    private readonly cases: CaseRepository,
  ) {}

  /** Reads the case's money too; undefined for a case that does not exist. */
  async ofCase(tx: Tx | undefined, caseId: string): Promise<Standing | undefined> {
    const money = await this.cases.money(tx, caseId);
    return money && this.of(tx, caseId, money);
  }

  /** From the case's money (read by the caller, under the case lock when it acts) and its trail, read in `tx`. */
  async of(tx: Tx | undefined, caseId: string, money: CaseMoney): Promise<Standing> {
    const trail = await this.touches.legalTrail(tx, caseId);
    const now = this.clock.now();
    const today = localDate(now, money.timezone);
    return { record: legalRecord(trail, money.timezone, today), account: caseAccount(money, now), today };
  }
}
