import { Injectable } from '@nestjs/common';
import { Gather } from '../../database/gather';
import { SqlRepository } from '../../database/sql-repository';
import type { Tx } from '../../database/transactions';
import { type AddressStatus, addressKey } from '../../domain/delivery-status';

/** Who reported what marked an address: the provider adapter, and the dispatch the report was about. */
export type AddressSource = 'ses' | 'sendgrid' | 'dsn';

/**
 * Email addresses no more email goes to (a hard bounce, a complaint), by a hash of the address:
 * the table holds no address. The first mark stands; the touches keep every report.
 */
@Injectable()
export class EmailAddressRepository extends SqlRepository {
  async mark(tx: Tx, address: string, status: AddressStatus, since: Date, dispatchId: string, source: AddressSource): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO email_address_status (address_key, status, since, dispatch_id, source) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (address_key) DO NOTHING`,
      [addressKey(address), status, since, dispatchId, source],
    );
  }

  /**
   * The address's mark, or null when email may go to it. The step worker asks before every email
   * step: the calls of one transaction are gathered into one statement, as the claims are.
   */
  statusOf(tx: Tx, address: string): Promise<AddressStatus | null> {
    return this.lookups.call(tx, addressKey(address));
  }

  private readonly lookups = new Gather<string, AddressStatus | null>(
    async (tx, keys) => {
      const rows = await this.rows<{ status: AddressStatus | null }>(
        tx,
        `SELECT a.status FROM unnest($1::text[]) WITH ORDINALITY AS k(address_key, n) LEFT JOIN email_address_status a USING (address_key) ORDER BY k.n`,
        [keys],
      );
      return rows.map((row) => row.status);
    },
    (key) => key,
  );
}
