import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/transactions';
import { SqlRepository } from '../database/sql-repository';

export interface SelfServiceDebtor {
  name: string;
  locale: string | null;
  unsubscribeToken: string;
}

/** A letter to the debtor as issued: the exact bytes, named by its number. */
export interface DebtorLetter {
  number: string;
  sha256: string;
  pdf: Buffer;
}

/** What the self-service page needs beyond the case record: whom it greets, in which language, which links still work, which letters it serves. */
@Injectable()
export class SelfServiceRepository extends SqlRepository {
  async debtorOf(caseId: string): Promise<SelfServiceDebtor | undefined> {
    return this.row<SelfServiceDebtor>(
      undefined,
      'SELECT d.name, d.locale, d.unsubscribe_token AS "unsubscribeToken" FROM cases c JOIN debtors d ON d.id = c.debtor_id WHERE c.id = $1',
      [caseId],
    );
  }

  /** Undefined for no such case; else when its links were last revoked (null: never). */
  async linkState(caseId: string): Promise<{ revokedAt: Date | null } | undefined> {
    return this.row<{ revokedAt: Date | null }>(
      undefined,
      'SELECT r.revoked_at AS "revokedAt" FROM cases c LEFT JOIN self_service_revocations r ON r.case_id = c.id WHERE c.id = $1',
      [caseId],
    );
  }

  /** Refuses every link of the case issued at or before `at`. */
  async revoke(tx: Tx, caseId: string, at: Date): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO self_service_revocations (case_id, revoked_at) VALUES ($1, $2)
       ON CONFLICT (case_id) DO UPDATE SET revoked_at = GREATEST(self_service_revocations.revoked_at, EXCLUDED.revoked_at)`,
      [caseId, at],
    );
  }

  /** A letter of this case to its debtor (not a guarantor's): nothing for any other letter id. */
  async debtorLetter(caseId: string, letterId: string): Promise<DebtorLetter | undefined> {
    return this.row<DebtorLetter>(undefined, `SELECT number, sha256, pdf FROM letters WHERE id = $1 AND case_id = $2 AND recipient_role = 'debtor'`, [
      letterId,
      caseId,
    ]);
  }
}
