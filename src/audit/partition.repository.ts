import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import { APPEND_ONLY, type EvidenceTable, type MonthPartition, parseMonthPartition } from '../domain/evidence-partitions';

/** The month partitions of the evidence tables: DDL through `create_evidence_partition` (migration 1766600000000). */
@Injectable()
export class PartitionRepository extends SqlRepository {
  /**
   * Waits at most this long for a table lock, then fails: creating or removing a partition locks
   * its parent, and waiting behind a long reader would stall every writer queued behind it.
   */
  async limitLockWait(tx: Tx, ms: number): Promise<void> {
    await this.run(tx, `SELECT set_config('lock_timeout', $1, true)`, [`${ms}ms`]);
  }

  /** Creates the partition unless it exists; true when created (false too when its rows sit in the default partition). */
  async create(tx: Tx, partition: MonthPartition): Promise<boolean> {
    const row = await this.row<{ created: boolean }>(tx, 'SELECT create_evidence_partition($1::regclass, $2, $3, $4, $5) AS created', [
      partition.table,
      partition.name,
      partition.from,
      partition.to,
      APPEND_ONLY[partition.table],
    ]);
    return row?.created === true;
  }

  /** The table's month partitions now attached, oldest first (the default partition is not one). */
  async attached(tx: Tx | undefined, table: EvidenceTable): Promise<MonthPartition[]> {
    const rows = await this.rows<{ name: string }>(
      tx,
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY c.relname`,
      [table],
    );
    return rows.flatMap((row) => parseMonthPartition(table, row.name) ?? []);
  }
}
