import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/transactions';
import { SqlRepository } from '../database/sql-repository';
import type { NoticeChannel } from '../domain/delivery-status';

export interface SelfServiceDebtor {
  name: string;
  locale: string | null;
  unsubscribeToken: string;
  declinedChannels: NoticeChannel[];
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
      'SELECT d.name, d.locale, d.unsubscribe_token AS "unsubscribeToken", d.declined_channels AS "declinedChannels" FROM cases c JOIN debtors d ON d.id = c.debtor_id WHERE c.id = $1',
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

  /** Sets the reminder channels the case's debtor declines; answers what they were before. */
  async setDeclinedChannels(tx: Tx, caseId: string, declined: readonly NoticeChannel[]): Promise<NoticeChannel[]> {
    const [row] = await this.changed<{ before: NoticeChannel[] }>(
      tx,
      `WITH old AS (SELECT d.id, d.declined_channels FROM debtors d JOIN cases c ON c.debtor_id = d.id WHERE c.id = $1 FOR UPDATE OF d)
       UPDATE debtors d SET declined_channels = $2 FROM old WHERE d.id = old.id RETURNING old.declined_channels AS before`,
      [caseId, declined],
    );
    return row?.before ?? [];
  }

  /** A letter of this case to its debtor (not a guarantor's): nothing for any other letter id. */
  async debtorLetter(caseId: string, letterId: string): Promise<DebtorLetter | undefined> {
    return this.row<DebtorLetter>(undefined, `SELECT number, sha256, pdf FROM letters WHERE id = $1 AND case_id = $2 AND recipient_role = 'debtor'`, [
      letterId,
      caseId,
    ]);
  }
}
