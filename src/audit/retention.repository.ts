import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import type { EvidenceTable, MonthPartition } from '../domain/evidence-partitions';

/** A completed download of the trail, as recorded. */
export interface AuditExport {
  at: Date;
  actor: string;
  from: Date;
  to: Date;
  caseId: string | null;
  format: string;
  touches: number;
  /** The newest seal when the download started; null before the first seal. */
  seal: { id: string; hash: string } | null;
}

export interface RetentionRun {
  at: Date;
  actor: string;
  table: EvidenceTable;
  mode: 'detach' | 'drop';
  cutoff: Date;
  partitions: readonly MonthPartition[];
  exportId: string;
  sealId: string;
  note: string;
}

/** A touch named by its case and seq. */
export interface TouchRef {
  caseId: string;
  seq: number;
}

/** The union of some touches partitions' rows (names checked by the caller: month partitions only). */
function unionOf(partitions: readonly MonthPartition[], columns: string): string {
  return partitions
    .map((partition) => {
      if (!/^touches_\d{4}_\d{2}$/.test(partition.name)) throw new Error(`not a touches month partition: ${partition.name}`);
      return `SELECT ${columns} FROM "${partition.name}"`;
    })
    .join(' UNION ALL ');
}

/** What retention rests on: the record of exports, of retention runs, and the chain anchors they leave. */
@Injectable()
export class RetentionRepository extends SqlRepository {
  async recordExport(entry: AuditExport): Promise<void> {
    await this.run(
      undefined,
      `INSERT INTO audit_exports (exported_at, actor, from_at, to_at, case_id, format, touches, seal_id, seal_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [entry.at, entry.actor, entry.from, entry.to, entry.caseId, entry.format, entry.touches, entry.seal?.id ?? null, entry.seal?.hash ?? null],
    );
  }

  /** The export of the whole trail over [from, to) with the newest seal, if any. */
  coveringExport(tx: Tx, from: Date, to: Date): Promise<{ id: string; sealId: string } | undefined> {
    return this.row(
      tx,
      `SELECT id::text, seal_id::text AS "sealId" FROM audit_exports
       WHERE case_id IS NULL AND seal_id IS NOT NULL AND from_at <= $1 AND to_at >= $2 ORDER BY seal_id DESC, id DESC LIMIT 1`,
      [from, to],
    );
  }

  /** A touch recorded in [from, to) that no seal up to `sealId` covers (its case's sealed seq is lower). */
  firstUnsealed(tx: Tx, from: Date, to: Date, sealId: string): Promise<TouchRef | undefined> {
    return this.row(
      tx,
      `WITH sealed AS (
         SELECT h."caseId" AS case_id, max(h.seq) AS seq FROM audit_seals s CROSS JOIN LATERAL jsonb_to_recordset(s.heads) AS h("caseId" uuid, seq int)
         WHERE s.id <= $3 GROUP BY 1
       )
       SELECT t.case_id AS "caseId", t.seq FROM touches t LEFT JOIN sealed ON sealed.case_id = t.case_id
       WHERE t.at >= $1 AND t.at < $2 AND (sealed.seq IS NULL OR t.seq > sealed.seq) ORDER BY t.at LIMIT 1`,
      [from, to, sealId],
    );
  }

  /**
   * A touch kept (outside `partitions`) that comes before a touch of the same case in them: the
   * partitions do not hold a prefix of that case's chain (a clock set back wrote an older month
   * later), so removing them would cut the chain in the middle.
   */
  firstKeptBeforeRemoved(tx: Tx, partitions: readonly MonthPartition[]): Promise<TouchRef | undefined> {
    return this.row(
      tx,
      `WITH gone AS (SELECT case_id, max(seq) AS seq FROM (${unionOf(partitions, 'case_id, seq')}) removed GROUP BY case_id)
       SELECT t.case_id AS "caseId", t.seq FROM gone JOIN touches t ON t.case_id = gone.case_id AND t.seq < gone.seq
       WHERE t.tableoid <> ALL($1::regclass[]) LIMIT 1`,
      [partitions.map((partition) => partition.name)],
    );
  }

  /** Records the run; returns its id. */
  async insertRun(tx: Tx, run: RetentionRun): Promise<string> {
    const row = await this.row<{ id: string }>(
      tx,
      `INSERT INTO retention_runs (at, actor, table_name, mode, cutoff, partitions, export_id, seal_id, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id::text`,
      [run.at, run.actor, run.table, run.mode, run.cutoff, run.partitions.map((partition) => partition.name), run.exportId, run.sealId, run.note],
    );
    return row!.id;
  }

  /** Anchors, per case, the last touch of the partitions a run removes; returns how many cases. */
  async insertAnchors(tx: Tx, runId: string, partitions: readonly MonthPartition[]): Promise<number> {
    const rows = await this.rows<{ case_id: string }>(
      tx,
      `INSERT INTO chain_anchors (case_id, seq, hash, run_id)
       SELECT DISTINCT ON (case_id) case_id, seq, hash, $1::bigint FROM (${unionOf(partitions, 'case_id, seq, hash')}) removed ORDER BY case_id, seq DESC
       RETURNING case_id`,
      [runId],
    );
    return rows.length;
  }
}
