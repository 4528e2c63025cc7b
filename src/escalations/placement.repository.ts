import { Injectable } from '@nestjs/common';
import { Conditions } from '../database/sql';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';

export type WebhookStatus = 'pending' | 'sent' | 'failed' | 'none';

/** The terms of a placement, as placed. */
interface PlacementTerms {
  id: string;
  caseId: string;
  stepId: string | null;
  agency: string;
  commissionRate: string;
  reason: string;
  currency: string;
}

export interface NewPlacement extends PlacementTerms {
  at: Date;
  by: string;
  balanceMinor: bigint;
  webhook: 'pending' | 'none';
}

/** A placement with its case's invoice and debtor: what the agency's file and webhook carry. */
export interface PlacementRow extends PlacementTerms {
  placedAt: Date;
  placedBy: string;
  balanceMinor: string;
  webhookStatus: WebhookStatus;
  webhookAttempts: number;
  webhookLastError: string | null;
  notifiedAt: Date | null;
  invoiceRef: string;
  contractRef: string | null;
  /** An invoice due at an instant is due on the debtor's calendar day of it. */
  dueDate: string;
  debtor: { externalId: string; name: string; email: string | null; phone: string | null; address: Record<string, string> | null };
}

export interface PlacementFilter {
  agency?: string;
  /** Placed at or after this instant. */
  since?: Date;
  after?: { placedAt: string; id: string };
  limit: number;
}

const SELECT = `SELECT p.id, p.case_id AS "caseId", p.step_id AS "stepId", p.agency, p.commission_rate::text AS "commissionRate", p.reason,
    p.placed_at AS "placedAt", p.placed_by AS "placedBy", p.balance_minor::text AS "balanceMinor", trim(p.currency) AS currency,
    p.webhook_status AS "webhookStatus", p.webhook_attempts AS "webhookAttempts", p.webhook_last_error AS "webhookLastError", p.notified_at AS "notifiedAt",
    i.external_id AS "invoiceRef", i.contract_ref AS "contractRef",
    to_char(coalesce(i.due_date, (i.due_at AT TIME ZONE d.timezone)::date), 'YYYY-MM-DD') AS "dueDate",
    json_build_object('externalId', d.external_id, 'name', d.name, 'email', d.email, 'phone', d.phone, 'address', d.address) AS debtor
  FROM agency_placements p JOIN cases c ON c.id = p.case_id JOIN debtors d ON d.id = c.debtor_id JOIN invoices i ON i.id = c.invoice_id`;

/** Agency placements and their webhook's delivery state. */
@Injectable()
export class PlacementRepository extends SqlRepository {
  /** The case's placement, if it has one (a case is placed once). */
  ofCase(tx: Tx, caseId: string): Promise<{ id: string; webhookStatus: WebhookStatus } | undefined> {
    return this.row(tx, 'SELECT id, webhook_status AS "webhookStatus" FROM agency_placements WHERE case_id = $1', [caseId]);
  }

  async insert(tx: Tx, placement: NewPlacement): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO agency_placements (id, case_id, step_id, agency, commission_rate, reason, placed_at, placed_by, balance_minor, currency, webhook_status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        placement.id,
        placement.caseId,
        placement.stepId,
        placement.agency,
        placement.commissionRate,
        placement.reason,
        placement.at,
        placement.by,
        placement.balanceMinor.toString(),
        placement.currency,
        placement.webhook,
      ],
    );
  }

  get(id: string): Promise<PlacementRow | undefined> {
    return this.row(undefined, `${SELECT} WHERE p.id = $1`, [id]);
  }

  /** Oldest first. */
  list(filter: PlacementFilter): Promise<PlacementRow[]> {
    const where = new Conditions();
    if (filter.agency) where.add('p.agency = ?', filter.agency);
    if (filter.since) where.add('p.placed_at >= ?', filter.since);
    if (filter.after) where.add('(p.placed_at, p.id) > (?, ?)', filter.after.placedAt, filter.after.id);
    return this.rows(undefined, `${SELECT} ${where.where} ORDER BY p.placed_at, p.id LIMIT ${where.param(filter.limit)}`, where.params);
  }

  /** Placements whose webhook has not gone out yet, oldest first. */
  async pendingIds(limit: number): Promise<string[]> {
    const rows = await this.rows<{ id: string }>(
      undefined,
      `SELECT id FROM agency_placements WHERE webhook_status = 'pending' ORDER BY placed_at, id LIMIT $1`,
      [limit],
    );
    return rows.map((row) => row.id);
  }

  /** The agency took the webhook; returns the attempts, or undefined when an earlier attempt already did. The caller holds the case lock. */
  async markSent(tx: Tx, id: string, at: Date): Promise<number | undefined> {
    const [row] = await this.changed<{ webhook_attempts: number }>(
      tx,
      `UPDATE agency_placements SET webhook_status = 'sent', notified_at = $2, webhook_attempts = webhook_attempts + 1, webhook_last_error = NULL
       WHERE id = $1 AND webhook_status <> 'sent' RETURNING webhook_attempts`,
      [id, at],
    );
    return row?.webhook_attempts;
  }

  /** Counts a failed attempt; `final` marks the webhook failed for good. */
  async markFailed(id: string, reason: string, final: boolean): Promise<void> {
    await this.run(
      undefined,
      `UPDATE agency_placements SET webhook_attempts = webhook_attempts + 1, webhook_last_error = $2,
         webhook_status = CASE WHEN $3 THEN 'failed' ELSE webhook_status END
       WHERE id = $1 AND webhook_status <> 'sent'`,
      [id, reason, final],
    );
  }

  /** Placement id → case id, for the placements that exist. */
  async caseIds(ids: readonly string[]): Promise<Map<string, string>> {
    const rows = await this.rows<{ id: string; case_id: string }>(undefined, 'SELECT id, case_id FROM agency_placements WHERE id = ANY($1::uuid[])', [ids]);
    return new Map(rows.map((row) => [row.id, row.case_id]));
  }
}
