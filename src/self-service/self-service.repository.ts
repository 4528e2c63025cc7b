import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';

export interface SelfServiceDebtor {
  name: string;
  locale: string | null;
  unsubscribeToken: string;
}

/** What the self-service page needs beyond the case record: whom it greets, in which language. */
@Injectable()
export class SelfServiceRepository extends SqlRepository {
  async debtorOf(caseId: string): Promise<SelfServiceDebtor | undefined> {
    return this.row<SelfServiceDebtor>(
      undefined,
      'SELECT d.name, d.locale, d.unsubscribe_token AS "unsubscribeToken" FROM cases c JOIN debtors d ON d.id = c.debtor_id WHERE c.id = $1',
      [caseId],
    );
  }
}
