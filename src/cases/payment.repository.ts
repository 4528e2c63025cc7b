import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';

/** Payments received on a case, once each by the payment's own id. */
@Injectable()
export class PaymentRepository extends SqlRepository {
  /** Records a payment; false when this payment id was recorded before (a duplicate event). */
  async insert(tx: Tx, payment: { caseId: string; externalId: string; amountMinor: bigint; currency: string; paidAt: string; at: Date }): Promise<boolean> {
    const rows = await this.rows(
      tx,
      `INSERT INTO payments (id, case_id, external_id, amount_minor, currency, paid_at, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (external_id) DO NOTHING RETURNING id`,
      [randomUUID(), payment.caseId, payment.externalId, payment.amountMinor.toString(), payment.currency, payment.paidAt, payment.at],
    );
    return rows.length > 0;
  }
}
