import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { decodeCursor, pageOf } from '../common/cursor';
import { DomainError, NotFound } from '../common/errors';
import { toMinorUnits } from '../domain/money';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Conditions, updateReturning } from '../database/sql';
import { daysPastDueSql } from '../domain/ladder';
import { OnSweep } from '../jobs/job-handlers';
import { JobName, SweepName } from '../jobs/job-names';
import { JobQueue } from '../jobs/job-queue.service';
import type { BatchRequest } from './batch.schemas';

/** Drivers per batch: each takes chunks of pending items (SKIP LOCKED), so workers share a batch. */
const DRIVERS = 2;

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

/** The end of `asOf` on the debtor's calendar, as SQL over the debtor's zone column. */
export const asOfEndSql = (asOfParam: string, zone = 'd.timezone') => `(((${asOfParam}::date + 1)::timestamp AT TIME ZONE ${zone}) - interval '1 millisecond')`;

/**
 * Finance batches: a request (idempotent by its key) selects its cases once, as items; workers
 * then work the items in chunks. The API side lives here: create, read, list items, cancel, and
 * the sweep that restarts a batch whose workers died.
 */
@Injectable()
export class Batches {
  private readonly logger = new Logger(Batches.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly jobs: JobQueue,
  ) {}

  /** 202 material: a new batch, or the one this key already made with the same body; 409 if the body differs. */
  async create(key: string, request: BatchRequest, actor: string): Promise<{ batch: BatchView; created: boolean }> {
    const requestHash = createHash('sha256').update(canonicalize(request)!).digest('hex');
    const id = randomUUID();
    const now = this.clock.now();
    const created = await this.dataSource.transaction(async (m) => {
      const inserted = await m.query(
        `INSERT INTO batches (id, idempotency_key, request_hash, kind, as_of, filter, letter_type, dry_run, status, total, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', 0, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
        [id, key, requestHash, request.kind, request.asOf, JSON.stringify(request.filter), request.letterType ?? null, request.dryRun, actor, now],
      );
      if (inserted.length === 0) return false;
      // The cases are chosen once, now: later changes to a case do not move it in or out of the batch.
      const { sql, params } = this.selection(request);
      const [{ total }] = await m.query(
        `WITH chosen AS (
           INSERT INTO batch_items (batch_id, seq, case_id, status)
           SELECT $1, row_number() OVER (ORDER BY c.opened_at, c.id), c.id, 'pending' FROM (${sql}) c RETURNING 1
         ) SELECT count(*)::int AS total FROM chosen`,
        [id, ...params],
      );
      await m.query(
        `UPDATE batches SET total = $2::int, status = CASE WHEN $2::int = 0 THEN 'completed' ELSE 'queued' END, finished_at = CASE WHEN $2::int = 0 THEN $3::timestamptz END WHERE id = $1`,
        [id, total, now],
      );
      return true;
    });
    const [existing] = created
      ? [{ id, request_hash: requestHash }]
      : await this.dataSource.query('SELECT id, request_hash FROM batches WHERE idempotency_key = $1', [key]);
    if (existing.request_hash !== requestHash) {
      throw new DomainError('conflict', `Idempotency-Key ${key} was used for another batch request (batch ${existing.id}); use a new key for a new request`);
    }
    if (created) await this.startDrivers(id);
    return { batch: await this.get(existing.id), created };
  }

  async get(id: string): Promise<BatchView> {
    const [batch] = await this.dataSource.query(
      `SELECT b.id, b.kind, b.status, b.dry_run AS "dryRun", to_char(b.as_of, 'YYYY-MM-DD') AS "asOf", b.filter, b.letter_type AS "letterType", b.total,
         count(*) FILTER (WHERE i.status = 'pending')::int AS pending, count(*) FILTER (WHERE i.status = 'done')::int AS done,
         count(*) FILTER (WHERE i.status = 'failed')::int AS failed, count(*) FILTER (WHERE i.status = 'skipped')::int AS skipped,
         count(*) FILTER (WHERE i.status = 'cancelled')::int AS cancelled,
         b.created_by AS "createdBy", b.created_at AS "createdAt", b.started_at AS "startedAt", b.finished_at AS "finishedAt"
       FROM batches b LEFT JOIN batch_items i ON i.batch_id = b.id WHERE b.id = $1 GROUP BY b.id`,
      [id],
    );
    if (!batch) throw new NotFound('batch', id);
    return batch;
  }

  async items(id: string, filter: { status?: string; cursor?: string; limit: number }) {
    await this.get(id);
    const where = new Conditions().add('i.batch_id = ?', id);
    if (filter.status) where.add('i.status = ?', filter.status);
    if (filter.cursor) where.add('i.seq > ?', decodeCursor<[number]>(filter.cursor, 1)[0]);
    const rows: { seq: number }[] = await this.dataSource.query(
      `SELECT i.seq, i.case_id AS "caseId", i.status, i.outcome, i.error, i.processed_at AS "processedAt"
       FROM batch_items i ${where.where} ORDER BY i.seq LIMIT ${filter.limit + 1}`,
      where.params,
    );
    const { page, nextCursor } = pageOf(rows, filter.limit, (last) => [last.seq]);
    return { items: page, nextCursor };
  }

  /** Stops a batch: workers finish the chunk in hand; the items not yet taken become `cancelled`. */
  async cancel(id: string, actor: string): Promise<BatchView> {
    await this.dataSource.transaction(async (m) => {
      const [batch] = await m.query('SELECT status FROM batches WHERE id = $1 FOR UPDATE', [id]);
      if (!batch) throw new NotFound('batch', id);
      if (batch.status === 'cancelled') return;
      if (batch.status === 'completed' || batch.status === 'failed')
        throw new DomainError('conflict', `batch ${id} is ${batch.status}; there is nothing left to cancel`);
      const now = this.clock.now();
      await m.query(`UPDATE batches SET status = 'cancelled', cancel_requested_at = $2, cancelled_by = $3, finished_at = $2 WHERE id = $1`, [id, now, actor]);
      await m.query(`UPDATE batch_items SET status = 'cancelled', processed_at = $2 WHERE batch_id = $1 AND status = 'pending'`, [id, now]);
    });
    return this.get(id);
  }

  /**
   * Restarts batches whose drivers are gone (a worker killed mid-batch): pending items and no
   * progress for BATCH_STALL_AFTER. Extra drivers are harmless: items are taken with SKIP LOCKED.
   */
  @OnSweep(SweepName.StalledBatches)
  async resumeStalled(): Promise<number> {
    const stalled = await updateReturning<{ id: string }>(
      this.dataSource.manager,
      `UPDATE batches b SET started_at = COALESCE(b.started_at, $1) WHERE b.status IN ('queued', 'running')
         AND COALESCE((SELECT max(processed_at) FROM batch_items WHERE batch_id = b.id), b.started_at, b.created_at) < $2
         AND EXISTS (SELECT 1 FROM batch_items WHERE batch_id = b.id AND status = 'pending')
       RETURNING b.id`,
      [this.clock.now(), new Date(this.clock.now().getTime() - this.config.BATCH_STALL_AFTER)],
    );
    for (const batch of stalled) await this.startDrivers(batch.id, `resume-${this.clock.now().getTime()}`);
    if (stalled.length) this.logger.warn(`restarted ${stalled.length} stalled batch(es)`);
    return stalled.length;
  }

  private async startDrivers(batchId: string, generation = 'start'): Promise<void> {
    await this.jobs.add(
      JobName.RunBatch,
      Array.from({ length: DRIVERS }, (_, driver) => ({ id: `${batchId}.${generation}.${driver}`, data: { batchId } })),
      'the stalled-batch sweep',
    );
  }

  /** The open cases a request covers, as SQL with its parameters (from $2: $1 is the batch id). */
  private selection(request: BatchRequest): { sql: string; params: unknown[] } {
    const where = new Conditions();
    where.param(null); // $1 is the batch id in the statement that embeds this
    const conditions = [`c.status IN ('active', 'on_hold')`];
    const add = (sql: string, value: unknown) => {
      where.add(sql, value);
    };
    const { minDaysPastDue, maxDaysPastDue, segment, currency, minAmount } = request.filter;
    if (minDaysPastDue !== undefined || maxDaysPastDue !== undefined) {
      // Days past due at the end of `asOf`, on each debtor's calendar.
      const dpd = daysPastDueSql(asOfEndSql(where.param(request.asOf)), 'i.due_at', 'd.timezone');
      if (minDaysPastDue !== undefined) add(`${dpd} >= ?`, minDaysPastDue);
      if (maxDaysPastDue !== undefined) add(`${dpd} <= ?`, maxDaysPastDue);
    }
    if (segment) add('c.segment = ?', segment);
    if (currency) add('trim(c.currency) = ?', currency);
    if (minAmount !== undefined && currency) add('c.balance_minor >= ?::bigint', toMinorUnits(minAmount, currency)!.toString());
    const filters = where.where.replace(/^WHERE /, '');
    return {
      sql: `SELECT c.id, c.opened_at FROM cases c JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id
            WHERE ${[...conditions, ...(filters ? [filters] : [])].join(' AND ')}`,
      params: where.params.slice(1),
    };
  }
}
