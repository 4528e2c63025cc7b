import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import type { AllocationPart } from '../domain/allocation';

export interface InvoiceDetails {
  id: string;
  externalId: string;
  debtorId: string;
  contractRef: string | null;
  currency: string;
  amountDueMinor: bigint;
  /** The calendar day it is due, when the event gave a day rather than an instant. */
  dueDate: string | null;
  dueAt: Date;
  lateFeeRatePerDay: string | null;
  contractDate: string | null;
  jurisdiction: string | null;
  limitationDate: string;
  /** The contract's payment allocation order, when it states one. */
  paymentAllocation: readonly AllocationPart[] | null;
}

const OPEN = `c.status IN ('active', 'on_hold')`;

/** Invoices: the debt a case collects, and its limitation clock. */
@Injectable()
export class InvoiceRepository extends SqlRepository {
  /**
   * Inserts or refreshes invoices; returns each external id's row id (an invoice seen before keeps
   * its id). A limitation restart recorded earlier is not undone by the invoice being reported again.
   */
  async upsertMany(tx: Tx, invoices: readonly InvoiceDetails[], at: Date): Promise<Map<string, string>> {
    const rows = await this.rows<{ id: string; external_id: string }>(
      tx,
      `INSERT INTO invoices (id, external_id, debtor_id, contract_ref, currency, amount_due_minor, due_date, due_at, late_fee_rate_per_day,
         contract_date, jurisdiction, limitation_date, payment_allocation, created_at, updated_at)
       SELECT id, external_id, debtor_id, contract_ref, currency, amount_due_minor, due_date, due_at, late_fee_rate_per_day,
         contract_date, jurisdiction, limitation_date, string_to_array(allocation, ','), $14::timestamptz, $14::timestamptz
       FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::bigint[], $7::date[], $8::timestamptz[], $9::numeric[], $10::date[], $11::text[],
         $12::date[], $13::text[])
         AS v(id, external_id, debtor_id, contract_ref, currency, amount_due_minor, due_date, due_at, late_fee_rate_per_day, contract_date, jurisdiction,
           limitation_date, allocation)
       ON CONFLICT (external_id) DO UPDATE SET debtor_id = EXCLUDED.debtor_id, contract_ref = EXCLUDED.contract_ref, currency = EXCLUDED.currency,
         amount_due_minor = EXCLUDED.amount_due_minor, due_date = EXCLUDED.due_date, due_at = EXCLUDED.due_at,
         late_fee_rate_per_day = EXCLUDED.late_fee_rate_per_day, contract_date = EXCLUDED.contract_date, jurisdiction = EXCLUDED.jurisdiction,
         payment_allocation = EXCLUDED.payment_allocation,
         limitation_date = GREATEST(invoices.limitation_date, EXCLUDED.limitation_date), updated_at = $14
       RETURNING id, external_id`,
      [
        invoices.map((i) => i.id),
        invoices.map((i) => i.externalId),
        invoices.map((i) => i.debtorId),
        invoices.map((i) => i.contractRef),
        invoices.map((i) => i.currency),
        invoices.map((i) => i.amountDueMinor.toString()),
        invoices.map((i) => i.dueDate),
        invoices.map((i) => i.dueAt),
        invoices.map((i) => i.lateFeeRatePerDay),
        invoices.map((i) => i.contractDate),
        invoices.map((i) => i.jurisdiction),
        invoices.map((i) => i.limitationDate),
        invoices.map((i) => i.paymentAllocation?.join(',') ?? null),
        at,
      ],
    );
    return new Map(rows.map((row) => [row.external_id, row.id]));
  }

  /** Locks a case's invoice and reads its limitation clock. */
  lockLimitation(tx: Tx, caseId: string): Promise<{ id: string; limitationDate: string; jurisdiction: string | null; timezone: string } | undefined> {
    return this.row(
      tx,
      `SELECT i.id, to_char(i.limitation_date, 'YYYY-MM-DD') AS "limitationDate", i.jurisdiction, d.timezone
       FROM cases c JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id WHERE c.id = $1 FOR UPDATE OF i`,
      [caseId],
    );
  }

  async setLimitationDate(tx: Tx, id: string, date: string, at: Date): Promise<void> {
    await this.run(tx, 'UPDATE invoices SET limitation_date = $2, updated_at = $3 WHERE id = $1', [id, date, at]);
  }

  /**
   * Marks up to `limit` open cases' limitation dates that are `warnDays` or fewer days away (on the
   * debtor's calendar) and not yet warned of; returns them. Marking makes the daily check idempotent.
   */
  markLimitationsExpiring(
    tx: Tx,
    now: Date,
    warnDays: number,
    limit: number,
  ): Promise<{ caseId: string; externalId: string; limitationDate: string; daysLeft: number }[]> {
    return this.changed(
      tx,
      `UPDATE invoices i SET limitation_warned_for = i.limitation_date
       FROM cases c JOIN debtors d ON d.id = c.debtor_id
       WHERE c.invoice_id = i.id AND ${OPEN} AND i.id IN (
         SELECT i2.id FROM invoices i2 JOIN cases c ON c.invoice_id = i2.id JOIN debtors d ON d.id = c.debtor_id
         WHERE ${OPEN} AND i2.limitation_warned_for IS DISTINCT FROM i2.limitation_date AND days_until(i2.limitation_date, $1, d.timezone) BETWEEN 0 AND $2
         LIMIT $3)
       RETURNING c.id AS "caseId", i.external_id AS "externalId", to_char(i.limitation_date, 'YYYY-MM-DD') AS "limitationDate", days_until(i.limitation_date, $1, d.timezone) AS "daysLeft"`,
      [now, warnDays, limit],
    );
  }
}
