import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { decodeCursor, encodeCursor, pageOf } from '../common/cursor';
import { formatMinorUnits } from '../domain/money';
import { Conditions } from '../database/sql';
import { trimRate } from '../domain/late-fee';

export interface PlacementFilter {
  agency?: string;
  /** Placed at or after this instant. */
  since?: Date;
  cursor?: string;
  limit: number;
}

/** One placement as the agency's file lists it (the CSV columns, in order). */
export interface PlacementRecord {
  placementId: string;
  caseId: string;
  placedAt: string;
  agency: string;
  commissionRate: string;
  invoiceExternalId: string;
  contractRef: string | null;
  debtorExternalId: string;
  debtorName: string;
  currency: string;
  balance: string;
}

export const PLACEMENT_COLUMNS: readonly (keyof PlacementRecord)[] = [
  'placementId',
  'caseId',
  'placedAt',
  'agency',
  'commissionRate',
  'invoiceExternalId',
  'contractRef',
  'debtorExternalId',
  'debtorName',
  'currency',
  'balance',
];

interface PlacementRow {
  id: string;
  case_id: string;
  step_id: string | null;
  agency: string;
  commission_rate: string;
  reason: string;
  placed_at: Date;
  placed_by: string;
  balance_minor: string;
  currency: string;
  webhook_status: string;
  webhook_attempts: number;
  webhook_last_error: string | null;
  notified_at: Date | null;
  invoice_ref: string;
  contract_ref: string | null;
  debtor_ref: string;
  debtor_name: string;
}

const record = (row: PlacementRow): PlacementRecord => ({
  placementId: row.id,
  caseId: row.case_id,
  placedAt: row.placed_at.toISOString(),
  agency: row.agency,
  commissionRate: trimRate(row.commission_rate),
  invoiceExternalId: row.invoice_ref,
  contractRef: row.contract_ref,
  debtorExternalId: row.debtor_ref,
  debtorName: row.debtor_name,
  currency: row.currency,
  balance: formatMinorUnits(BigInt(row.balance_minor), row.currency),
});

/** Agency placements: the JSON listing and the agency's CSV file. */
@Injectable()
export class Placements {
  constructor(private readonly dataSource: DataSource) {}

  /** Oldest first, with the webhook's state for operators. */
  async list(filter: PlacementFilter) {
    const rows = await this.page(filter);
    const { page, nextCursor } = pageOf(rows, filter.limit, (last) => [last.placed_at.toISOString(), last.id]);
    return {
      items: page.map((row) => ({
        ...record(row),
        stepId: row.step_id,
        reason: row.reason,
        placedBy: row.placed_by,
        webhook: { status: row.webhook_status, attempts: row.webhook_attempts, lastError: row.webhook_last_error, notifiedAt: row.notified_at },
      })),
      nextCursor,
    };
  }

  /** Every matching placement, a page at a time, for the CSV export. */
  async *records(filter: Omit<PlacementFilter, 'cursor' | 'limit'>, pageSize = 1000): AsyncGenerator<PlacementRecord[]> {
    let after: string | undefined;
    for (;;) {
      const rows = await this.page({ ...filter, cursor: after, limit: pageSize }, false);
      if (rows.length) yield rows.map(record);
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = encodeCursor([last.placed_at.toISOString(), last.id]);
    }
  }

  /** A page plus one row (to tell whether another follows) unless `lookAhead` is off. */
  private page(filter: PlacementFilter, lookAhead = true): Promise<PlacementRow[]> {
    const where = new Conditions();
    if (filter.agency) where.add('p.agency = ?', filter.agency);
    if (filter.since) where.add('p.placed_at >= ?', filter.since);
    if (filter.cursor) where.add('(p.placed_at, p.id) > (?, ?)', ...decodeCursor<[string, string]>(filter.cursor, 2));
    return this.dataSource.query(
      `SELECT p.id, p.case_id, p.step_id, p.agency, p.commission_rate::text AS commission_rate, p.reason, p.placed_at, p.placed_by,
         p.balance_minor, trim(p.currency) AS currency, p.webhook_status, p.webhook_attempts, p.webhook_last_error, p.notified_at,
         i.external_id AS invoice_ref, i.contract_ref, d.external_id AS debtor_ref, d.name AS debtor_name
       FROM agency_placements p JOIN cases c ON c.id = p.case_id JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id
       ${where.where} ORDER BY p.placed_at, p.id LIMIT ${filter.limit + (lookAhead ? 1 : 0)}`,
      where.params,
    );
  }
}
