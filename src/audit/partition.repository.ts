import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import { APPEND_ONLY, type EvidenceTable, type MonthPartition, parseMonthPartition } from '../domain/evidence-partitions';

/** The month partitions of the evidence tables: DDL through `create_evidence_partition` (migration 1766600000000). */
@Injectable()
export class PartitionRepository extends SqlRepository {
  /** Waits at most this long for any lock in the transaction, then fails with lock_not_available (see PartitionDdl). */
  async limitLockWait(tx: Tx, ms: number): Promise<void> {
    await this.run(tx, `SELECT set_config('lock_timeout', $1, true)`, [`${ms}ms`]);
  }

  /**
   * Takes every table lock partition DDL on `table` needs, in the writers' order: first the tables
   * its foreign keys reference (cases, debtors, scheduled_steps: SHARE ROW EXCLUSIVE, as PostgreSQL
   * takes for the partition's foreign keys), then the table and all its partitions (ACCESS
   * EXCLUSIVE). Taken up front, the waits all come before the DDL's work, and the DDL waits for
   * nobody while writers queue behind it.
   */
  async lockForDdl(tx: Tx, table: EvidenceTable): Promise<void> {
    const referenced = await this.rows<{ name: string }>(
      tx,
      `SELECT DISTINCT confrelid::regclass::text AS name FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f' ORDER BY 1`,
      [table],
    );
    // The names are the catalog's own, quoted by regclass::text where they need it.
    if (referenced.length) await this.run(tx, `LOCK TABLE ${referenced.map((row) => row.name).join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
    await this.run(tx, `LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
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

  /**
   * Detaches the partition: it stays as a table of its own for the operator to archive and drop.
   * PostgreSQL removes the row triggers cloned from the parent on detach, so a touches partition
   * gets its own refusal of UPDATE and DELETE back (its TRUNCATE trigger is its own already).
   */
  async detach(tx: Tx, partition: MonthPartition): Promise<void> {
    const name = identifier(partition);
    await this.run(tx, `ALTER TABLE ${partition.table} DETACH PARTITION ${name}`);
    if (APPEND_ONLY[partition.table]) {
      await this.run(tx, `CREATE TRIGGER ${partition.name}_append_only BEFORE UPDATE OR DELETE ON ${name} FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()`);
    }
  }

  /** Drops the partition and its rows (their key rows stay: keys are never reused). */
  async drop(tx: Tx, partition: MonthPartition): Promise<void> {
    await this.run(tx, `DROP TABLE ${identifier(partition)}`);
  }
}

/** A partition's name as an SQL identifier: only names `parseMonthPartition` gives (`touches_2026_03`) ever get here. */
function identifier(partition: MonthPartition): string {
  if (parseMonthPartition(partition.table, partition.name)?.name !== partition.name) throw new Error(`not a month partition: ${partition.name}`);
  return `"${partition.name}"`;
}
