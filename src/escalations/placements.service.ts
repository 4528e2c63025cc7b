import { Injectable } from '@nestjs/common';
import { CURSOR, decodeCursor, encodeCursor, pageOf } from '../common/cursor';
import { formatMinorUnits } from '../domain/money';
import { trimRate } from '../domain/late-fee';
import { PlacementRepository, type PlacementRow } from './placement.repository';

export interface PlacementQuery {
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

const record = (row: PlacementRow): PlacementRecord => ({
  placementId: row.id,
  caseId: row.caseId,
  placedAt: row.placedAt.toISOString(),
  agency: row.agency,
  commissionRate: trimRate(row.commissionRate),
  invoiceExternalId: row.invoiceRef,
  contractRef: row.contractRef,
  debtorExternalId: row.debtor.externalId,
  debtorName: row.debtor.name,
  currency: row.currency,
  balance: formatMinorUnits(BigInt(row.balanceMinor), row.currency),
});

/** Agency placements: the JSON listing and the agency's CSV file. */
@Injectable()
export class Placements {
  constructor(private readonly placements: PlacementRepository) {}

  /** Oldest first, with the webhook's state for operators. */
  async list(filter: PlacementQuery) {
    const rows = await this.page(filter, true);
    const { page, nextCursor } = pageOf(rows, filter.limit, (last) => [last.placedAt.toISOString(), last.id]);
    return {
      items: page.map((row) => ({
        ...record(row),
        stepId: row.stepId,
        reason: row.reason,
        placedBy: row.placedBy,
        webhook: { status: row.webhookStatus, attempts: row.webhookAttempts, lastError: row.webhookLastError, notifiedAt: row.notifiedAt },
      })),
      nextCursor,
    };
  }

  /** Every matching placement, a page at a time, for the CSV export. */
  async *records(filter: Omit<PlacementQuery, 'cursor' | 'limit'>, pageSize = 1000): AsyncGenerator<PlacementRecord[]> {
    let after: string | undefined;
    for (;;) {
      const rows = await this.page({ ...filter, cursor: after, limit: pageSize }, false);
      if (rows.length) yield rows.map(record);
      const last = rows[rows.length - 1];
      if (!last || rows.length < pageSize) return;
      after = encodeCursor([last.placedAt.toISOString(), last.id]);
    }
  }

  /** A page plus one row (to tell whether another follows) when `lookAhead` is on. */
  private page(filter: PlacementQuery, lookAhead: boolean): Promise<PlacementRow[]> {
    const [placedAt, id] = filter.cursor ? decodeCursor(filter.cursor, CURSOR.instantAndId) : [];
    return this.placements.list({
      agency: filter.agency,
      since: filter.since,
      after: placedAt !== undefined && id !== undefined ? { placedAt, id } : undefined,
      limit: filter.limit + (lookAhead ? 1 : 0),
    });
  }
}
