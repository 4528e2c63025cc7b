import { Injectable } from '@nestjs/common';
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

  /** The address's mark, or null when email may go to it. */
  async statusOf(tx: Tx, address: string): Promise<AddressStatus | null> {
    const row = await this.row<{ status: AddressStatus }>(tx, `SELECT status FROM email_address_status WHERE address_key = $1`, [addressKey(address)]);
    return row?.status ?? null;
  }
}
