import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';

/** Payments received on a case, once each by the payment's own id. */
@Injectable()
export class PaymentRepository extends SqlRepository {
  /** The new payment's id, or null when its external id was recorded before. */
  async insert(
    tx: Tx,
    payment: { caseId: string; externalId: string; amountMinor: bigint; currency: string; paidAt: string; at: Date },
  ): Promise<string | null> {
    const rows = await this.rows<{ id: string }>(
      tx,
      `INSERT INTO payments (id, case_id, external_id, amount_minor, currency, paid_at, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (external_id) DO NOTHING RETURNING id`,
      [randomUUID(), payment.caseId, payment.externalId, payment.amountMinor.toString(), payment.currency, payment.paidAt, payment.at],
    );
    return rows[0]?.id ?? null;
  }
}
