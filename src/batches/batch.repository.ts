import { Injectable } from '@nestjs/common';
import type { AccountFigures } from '../domain/account';
import { Conditions } from '../database/sql';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import type { LetterType } from '../domain/letter-fields';
import type { BatchKind, BatchRequest } from './batch.schemas';

export interface BatchView {
  id: string;
  kind: string;
  status: string;
  dryRun: boolean;
  asOf: string;
  filter: BatchRequest['filter'];
  letterType: string | null;
  total: number;
  pending: number;
  done: number;
  failed: number;
  skipped: number;
  cancelled: number;
  createdBy: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** A batch's item as the API shows it: one case and what the batch did to it. */
export interface BatchItemView {
  seq: number;
  caseId: string;
  status: string;
  outcome: string | null;
  error: string | null;
  /** For a letters batch, the case's account as the letter stated it (or would have). */
  amounts: AccountFigures | null;
  processedAt: Date | null;
}

/** A batch as its drivers read it. */
export interface RunningBatch {
  id: string;
  kind: BatchKind;
  status: string;
  asOf: string;
  letterType: LetterType | null;
  dryRun: boolean;
  createdBy: string;
}

export interface ItemOutcome {
  seq: number;
  caseId: string;
  status: 'done' | 'failed' | 'skipped';
  outcome: string;
  error?: string;
  amounts?: AccountFigures;
}

/** The open cases a request covers, as SQL with its parameters from $2 on ($1 is the batch id). */
function selection(request: BatchRequest, minorAmount: string | null): { sql: string; params: unknown[] } {
  const where = new Conditions();
  where.param(null); // $1 is the batch id in the statement that embeds this
  where.add(`c.status IN ('active', 'on_hold')`);
  const { minDaysPastDue, maxDaysPastDue, segment, currency } = request.filter;
  if (minDaysPastDue !== undefined || maxDaysPastDue !== undefined) {
    // Days past due at the end of `asOf`, on each debtor's calendar.
    const dpd = `days_past_due(local_day_end(${where.param(request.asOf)}::date, d.timezone), i.due_at, d.timezone)`;
    if (minDaysPastDue !== undefined) where.add(`${dpd} >= ?`, minDaysPastDue);
    if (maxDaysPastDue !== undefined) where.add(`${dpd} <= ?`, maxDaysPastDue);
  }
  if (segment) where.add('c.segment = ?', segment);
  if (currency) where.add('trim(c.currency) = ?', currency);
  if (minorAmount !== null) where.add('c.balance_minor >= ?::bigint', minorAmount);
  return {
    sql: `SELECT c.id, c.opened_at FROM cases c JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id ${where.where}`,
    params: where.params.slice(1),
  };
}

/** Finance batches and their items (one per case chosen). */
@Injectable()
export class BatchRepository extends SqlRepository {
  /**
   * Creates a batch for an idempotency key and chooses its cases, once: later changes to a case do
   * not move it in or out. False when the key was used before (nothing is written).
   */
  async create(
    tx: Tx,
    batch: { id: string; key: string; requestHash: string; request: BatchRequest; minAmountMinor: bigint | null; by: string; at: Date },
  ): Promise<boolean> {
    const { request } = batch;
    const inserted = await this.rows(
      tx,
      `INSERT INTO batches (id, idempotency_key, request_hash, kind, as_of, filter, letter_type, dry_run, status, total, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', 0, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
      [
        batch.id,
        batch.key,
        batch.requestHash,
        request.kind,
        request.asOf,
        JSON.stringify(request.filter),
        request.letterType ?? null,
        request.dryRun,
        batch.by,
        batch.at,
      ],
    );
    if (inserted.length === 0) return false;
    const { sql, params } = selection(request, batch.minAmountMinor === null ? null : batch.minAmountMinor.toString());
    const row = await this.row<{ total: number }>(
      tx,
      `WITH chosen AS (
         INSERT INTO batch_items (batch_id, seq, case_id, status)
         SELECT $1, row_number() OVER (ORDER BY c.opened_at, c.id), c.id, 'pending' FROM (${sql}) c RETURNING 1
       ) SELECT count(*)::int AS total FROM chosen`,
      [batch.id, ...params],
    );
    await this.run(
      tx,
      `UPDATE batches SET total = $2::int, status = CASE WHEN $2::int = 0 THEN 'completed' ELSE 'queued' END, finished_at = CASE WHEN $2::int = 0 THEN $3::timestamptz END WHERE id = $1`,
      [batch.id, row?.total ?? 0, batch.at],
    );
    return true;
  }

  /** The batch an idempotency key made, with the hash of its request. */
  byKey(key: string): Promise<{ id: string; requestHash: string } | undefined> {
    return this.row(undefined, 'SELECT id, request_hash AS "requestHash" FROM batches WHERE idempotency_key = $1', [key]);
  }

  get(id: string): Promise<BatchView | undefined> {
    return this.row(
      undefined,
      `SELECT b.id, b.kind, b.status, b.dry_run AS "dryRun", to_char(b.as_of, 'YYYY-MM-DD') AS "asOf", b.filter, b.letter_type AS "letterType", b.total,
         count(*) FILTER (WHERE i.status = 'pending')::int AS pending, count(*) FILTER (WHERE i.status = 'done')::int AS done,
         count(*) FILTER (WHERE i.status = 'failed')::int AS failed, count(*) FILTER (WHERE i.status = 'skipped')::int AS skipped,
         count(*) FILTER (WHERE i.status = 'cancelled')::int AS cancelled,
         b.created_by AS "createdBy", b.created_at AS "createdAt", b.started_at AS "startedAt", b.finished_at AS "finishedAt"
       FROM batches b LEFT JOIN batch_items i ON i.batch_id = b.id WHERE b.id = $1 GROUP BY b.id`,
      [id],
    );
  }

  /** A batch's items in order, after `afterSeq`. */
  items(id: string, filter: { status?: string; afterSeq?: number; limit: number }): Promise<BatchItemView[]> {
    const where = new Conditions().add('i.batch_id = ?', id);
    if (filter.status) where.add('i.status = ?', filter.status);
    if (filter.afterSeq !== undefined) where.add('i.seq > ?', filter.afterSeq);
    return this.rows(
      undefined,
      `SELECT i.seq, i.case_id AS "caseId", i.status, i.outcome, i.error, i.amounts, i.processed_at AS "processedAt"
       FROM batch_items i ${where.where} ORDER BY i.seq LIMIT ${where.param(filter.limit)}`,
      where.params,
    );
  }

  async lockStatus(tx: Tx, id: string): Promise<string | undefined> {
    return (await this.row<{ status: string }>(tx, 'SELECT status FROM batches WHERE id = $1 FOR UPDATE', [id]))?.status;
  }

  /** Cancels a batch and its items not yet taken. */
  async cancel(tx: Tx, id: string, by: string, at: Date): Promise<void> {
    await this.run(tx, `UPDATE batches SET status = 'cancelled', cancel_requested_at = $2, cancelled_by = $3, finished_at = $2 WHERE id = $1`, [id, at, by]);
    await this.run(tx, `UPDATE batch_items SET status = 'cancelled', processed_at = $2 WHERE batch_id = $1 AND status = 'pending'`, [id, at]);
  }

  /** Batches with pending items and no progress since `before` (their drivers are gone); marks them started. */
  async stalled(now: Date, before: Date): Promise<string[]> {
    const rows = await this.changed<{ id: string }>(
      undefined,
      `UPDATE batches b SET started_at = COALESCE(b.started_at, $1) WHERE b.status IN ('queued', 'running')
         AND COALESCE((SELECT max(processed_at) FROM batch_items WHERE batch_id = b.id), b.started_at, b.created_at) < $2
         AND EXISTS (SELECT 1 FROM batch_items WHERE batch_id = b.id AND status = 'pending')
       RETURNING b.id`,
      [now, before],
    );
    return rows.map((row) => row.id);
  }

  /** A queued batch starts running when its first driver arrives. */
  async start(id: string, at: Date): Promise<void> {
    await this.run(undefined, `UPDATE batches SET status = 'running', started_at = COALESCE(started_at, $2) WHERE id = $1 AND status = 'queued'`, [id, at]);
  }

  running(tx: Tx, id: string): Promise<RunningBatch | undefined> {
    return this.row(
      tx,
      `SELECT id, kind, status, to_char(as_of, 'YYYY-MM-DD') AS "asOf", letter_type AS "letterType", dry_run AS "dryRun", created_by AS "createdBy" FROM batches WHERE id = $1`,
      [id],
    );
  }

  /** Takes the next pending items, skipping those another driver holds. */
  takeItems(tx: Tx, id: string, limit: number): Promise<{ seq: number; caseId: string }[]> {
    return this.rows(
      tx,
      `SELECT seq, case_id AS "caseId" FROM batch_items WHERE batch_id = $1 AND status = 'pending' ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [id, limit],
    );
  }

  async recordOutcomes(tx: Tx, id: string, outcomes: readonly ItemOutcome[], at: Date): Promise<void> {
    await this.run(
      tx,
      `UPDATE batch_items i SET status = o.status, outcome = o.outcome, error = o.error, amounts = o.amounts, processed_at = $2
       FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::jsonb[]) AS o(seq, status, outcome, error, amounts) WHERE i.batch_id = $1 AND i.seq = o.seq`,
      [
        id,
        at,
        outcomes.map((o) => o.seq),
        outcomes.map((o) => o.status),
        outcomes.map((o) => o.outcome),
        outcomes.map((o) => o.error ?? null),
        outcomes.map((o) => (o.amounts ? JSON.stringify(o.amounts) : null)),
      ],
    );
  }

  /** The last driver out marks the batch completed (a cancelled batch stays cancelled); true when this call did. */
  async complete(id: string, at: Date): Promise<boolean> {
    const rows = await this.changed(
      undefined,
      `UPDATE batches SET status = 'completed', finished_at = $2 WHERE id = $1 AND status = 'running'
         AND NOT EXISTS (SELECT 1 FROM batch_items WHERE batch_id = $1 AND status = 'pending') RETURNING id`,
      [id, at],
    );
    return rows.length > 0;
  }

  /** Items of queued and running batches, by batch and item status (a gauge's samples). */
  progress(): Promise<{ batch_status: string; item_status: string; n: number }[]> {
    return this.rows(
      undefined,
      `SELECT b.status AS batch_status, i.status AS item_status, count(*)::int AS n
       FROM batches b JOIN batch_items i ON i.batch_id = b.id WHERE b.status IN ('queued', 'running') GROUP BY 1, 2`,
    );
  }
}
