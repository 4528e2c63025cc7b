import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `touches` and `dispatches` grow by the case without bound: both become partitioned by month on
 * their own time column (`at`, `created_at`), converted in place with their rows.
 *
 * PostgreSQL wants every unique constraint of a partitioned table to include the partition key,
 * so the global guarantees move to two narrow, unpartitioned key tables that a BEFORE INSERT
 * trigger fills from every insert, whatever the path:
 *
 * - `touch_keys (id, case_id, seq, at)`: touch ids and (case_id, seq) stay unique across months
 *   (the hash chain's guard), and the foreign keys that pointed at touches(id) point here;
 * - `dispatch_keys (dedupe_key, dispatch_id, created_at)`: a dedupe key stays globally unique
 *   (the guard against sending a notice twice), and so does a dispatch id, which the foreign keys
 *   that pointed at dispatches(id) now point at.
 *
 * Key rows are append-only and outlive a dropped partition: an id or a dedupe key is never reused
 * and a reference from another table stays valid. Partitions are created by
 * `create_evidence_partition` (here and by the partitions sweep): it gives a touches partition its
 * own TRUNCATE trigger, as statement triggers are not cloned from the parent (row triggers are).
 * A default partition takes rows of a month nobody created, so no insert can fail for lack of one.
 */
/** A foreign key another table holds: `rest` is what follows its REFERENCES clause (ON DELETE …). */
interface ForeignKey {
  holder: string;
  name: string;
  column: string;
  rest: string;
}

export class PartitionedEvidence1766600000000 implements MigrationInterface {
  name = 'PartitionedEvidence1766600000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE FUNCTION create_evidence_partition(parent regclass, name text, lo timestamptz, hi timestamptz, append_only boolean) RETURNS boolean
      LANGUAGE plpgsql AS $$
      BEGIN
        IF to_regclass(quote_ident(name)) IS NOT NULL THEN RETURN false; END IF;
        EXECUTE format('CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', name, parent, lo, hi);
        IF append_only THEN
          EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change()', name || '_no_truncate', name);
        END IF;
        RETURN true;
      EXCEPTION WHEN check_violation THEN
        -- Rows of that month already sit in the default partition (append-only: they cannot move). They stay there.
        RAISE WARNING 'partition % not created: the default partition of % holds rows of its months', name, parent;
        RETURN false;
      END $$;

      CREATE TABLE touch_keys (
        id bigint PRIMARY KEY,
        case_id uuid NOT NULL,
        seq integer NOT NULL,
        at timestamptz NOT NULL,
        UNIQUE (case_id, seq)
      );
      INSERT INTO touch_keys (id, case_id, seq, at) SELECT id, case_id, seq, at FROM touches;
      CREATE TRIGGER touch_keys_append_only BEFORE UPDATE OR DELETE ON touch_keys FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
      CREATE TRIGGER touch_keys_no_truncate BEFORE TRUNCATE ON touch_keys FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
      CREATE FUNCTION keep_touch_key() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO touch_keys (id, case_id, seq, at) VALUES (NEW.id, NEW.case_id, NEW.seq, NEW.at);
        RETURN NEW;
      END $$;

      CREATE TABLE dispatch_keys (
        dedupe_key text PRIMARY KEY,
        dispatch_id uuid NOT NULL UNIQUE,
        created_at timestamptz NOT NULL
      );
      INSERT INTO dispatch_keys (dedupe_key, dispatch_id, created_at) SELECT dedupe_key, id, created_at FROM dispatches;
      CREATE TRIGGER dispatch_keys_append_only BEFORE UPDATE OR DELETE ON dispatch_keys FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
      CREATE TRIGGER dispatch_keys_no_truncate BEFORE TRUNCATE ON dispatch_keys FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
      CREATE FUNCTION keep_dispatch_key() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO dispatch_keys (dedupe_key, dispatch_id, created_at) VALUES (NEW.dedupe_key, NEW.id, NEW.created_at);
        RETURN NEW;
      END $$;
      -- A dispatch's key columns are its key row's: they never change.
      CREATE FUNCTION refuse_dispatch_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'dispatches: id, dedupe_key and created_at never change' USING ERRCODE = 'insufficient_privilege';
      END $$;
    `);
    const touchRefs = await this.dropForeignKeysTo(runner, 'touches');
    const dispatchRefs = await this.dropForeignKeysTo(runner, 'dispatches');

    await this.partition(runner, 'touches', 'at', true);
    await runner.query(`
      ALTER TABLE touches ADD PRIMARY KEY (id, at);
      ALTER TABLE touches ADD CONSTRAINT touches_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases(id);
      CREATE INDEX touches_chain ON touches (case_id, seq);
      CREATE INDEX touches_by_time ON touches (at, id);
      CREATE INDEX touches_contacts ON touches (id) WHERE kind IN ('contact.recorded', 'notice.sent', 'letter.sent');
      CREATE INDEX touches_promises ON touches ((data->>'dueDate'), id) WHERE kind = 'promise.recorded';
      CREATE INDEX touches_recorded_contacts ON touches (case_id) WHERE kind = 'contact.recorded';
      CREATE INDEX touches_qa_scored ON touches (at) WHERE kind = 'qa.scored';
      CREATE TRIGGER touches_key BEFORE INSERT ON touches FOR EACH ROW EXECUTE FUNCTION keep_touch_key();
      CREATE TRIGGER touches_append_only BEFORE UPDATE OR DELETE ON touches FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
      CREATE TRIGGER touches_no_truncate BEFORE TRUNCATE ON touches FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
    `);

    await this.partition(runner, 'dispatches', 'created_at', false);
    await runner.query(`
      ALTER TABLE dispatches ADD PRIMARY KEY (id, created_at);
      ALTER TABLE dispatches ADD CONSTRAINT dispatches_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases(id);
      ALTER TABLE dispatches ADD CONSTRAINT dispatches_step_id_fkey FOREIGN KEY (step_id) REFERENCES scheduled_steps(id);
      ALTER TABLE dispatches ADD CONSTRAINT dispatches_debtor_id_fkey FOREIGN KEY (debtor_id) REFERENCES debtors(id);
      CREATE INDEX dispatches_by_dedupe_key ON dispatches (dedupe_key);
      CREATE INDEX dispatches_by_case ON dispatches (case_id);
      CREATE INDEX dispatches_by_step ON dispatches (step_id);
      CREATE INDEX dispatches_by_message_id ON dispatches (message_id);
      CREATE INDEX dispatches_recent_by_debtor ON dispatches (debtor_id, created_at) WHERE status <> 'failed';
      CREATE TRIGGER dispatches_key BEFORE INSERT ON dispatches FOR EACH ROW EXECUTE FUNCTION keep_dispatch_key();
      CREATE TRIGGER dispatches_key_fixed BEFORE UPDATE OF id, dedupe_key, created_at ON dispatches FOR EACH ROW
        WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.dedupe_key IS DISTINCT FROM NEW.dedupe_key OR OLD.created_at IS DISTINCT FROM NEW.created_at)
        EXECUTE FUNCTION refuse_dispatch_key_change();
    `);
    await this.addForeignKeys(runner, touchRefs, 'touch_keys(id)');
    await this.addForeignKeys(runner, dispatchRefs, 'dispatch_keys(dispatch_id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    const touchRefs = await this.dropForeignKeysTo(runner, 'touch_keys');
    const dispatchRefs = await this.dropForeignKeysTo(runner, 'dispatch_keys');
    await runner.query(`
      CREATE TABLE touches_unpartitioned (LIKE touches INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
      INSERT INTO touches_unpartitioned SELECT * FROM touches;
      ALTER SEQUENCE touches_id_seq OWNED BY touches_unpartitioned.id;
      DROP TABLE touches;
      ALTER TABLE touches_unpartitioned RENAME TO touches;
      ALTER TABLE touches ADD PRIMARY KEY (id), ADD UNIQUE (case_id, seq), ADD CONSTRAINT touches_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases(id);
      CREATE INDEX touches_by_time ON touches (at, id);
      CREATE INDEX touches_contacts ON touches (id) WHERE kind IN ('contact.recorded', 'notice.sent', 'letter.sent');
      CREATE INDEX touches_promises ON touches ((data->>'dueDate'), id) WHERE kind = 'promise.recorded';
      CREATE INDEX touches_recorded_contacts ON touches (case_id) WHERE kind = 'contact.recorded';
      CREATE INDEX touches_qa_scored ON touches (at) WHERE kind = 'qa.scored';
      CREATE TRIGGER touches_append_only BEFORE UPDATE OR DELETE ON touches FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
      CREATE TRIGGER touches_no_truncate BEFORE TRUNCATE ON touches FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();

      CREATE TABLE dispatches_unpartitioned (LIKE dispatches INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
      INSERT INTO dispatches_unpartitioned SELECT * FROM dispatches;
      DROP TABLE dispatches;
      ALTER TABLE dispatches_unpartitioned RENAME TO dispatches;
      ALTER TABLE dispatches ADD PRIMARY KEY (id), ADD UNIQUE (dedupe_key),
        ADD CONSTRAINT dispatches_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases(id),
        ADD CONSTRAINT dispatches_step_id_fkey FOREIGN KEY (step_id) REFERENCES scheduled_steps(id),
        ADD CONSTRAINT dispatches_debtor_id_fkey FOREIGN KEY (debtor_id) REFERENCES debtors(id);
      CREATE INDEX dispatches_by_case ON dispatches (case_id);
      CREATE INDEX dispatches_by_message_id ON dispatches (message_id);
      CREATE INDEX dispatches_recent_by_debtor ON dispatches (debtor_id, created_at) WHERE status <> 'failed';
    `);
    await this.addForeignKeys(runner, touchRefs, 'touches(id)');
    await this.addForeignKeys(runner, dispatchRefs, 'dispatches(id)');
    await runner.query(`
      DROP TABLE touch_keys, dispatch_keys;
      DROP FUNCTION keep_touch_key(), keep_dispatch_key(), refuse_dispatch_key_change(), create_evidence_partition(regclass, text, timestamptz, timestamptz, boolean);
    `);
  }

  /**
   * Replaces `table` by a table of the same columns partitioned by month on `key`: a partition for
   * every month that has rows, this month and the next three, and a default one; the rows copied,
   * the id sequence kept. Constraints, indexes and triggers are the caller's.
   */
  private async partition(runner: QueryRunner, table: 'touches' | 'dispatches', key: 'at' | 'created_at', appendOnly: boolean): Promise<void> {
    await runner.query(`
      CREATE TABLE ${table}_partitioned (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (${key});
      SELECT create_evidence_partition('${table}_partitioned', '${table}_' || to_char(month, 'YYYY_MM'), month AT TIME ZONE 'UTC',
        (month + interval '1 month') AT TIME ZONE 'UTC', ${appendOnly})
      FROM (
        SELECT DISTINCT date_trunc('month', ${key} AT TIME ZONE 'UTC') AS month FROM ${table}
        UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + ahead * interval '1 month' FROM generate_series(0, 3) AS ahead
      ) months ORDER BY month;
      CREATE TABLE ${table}_default PARTITION OF ${table}_partitioned DEFAULT;
      ${appendOnly ? `CREATE TRIGGER ${table}_default_no_truncate BEFORE TRUNCATE ON ${table}_default FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();` : ''}
      INSERT INTO ${table}_partitioned SELECT * FROM ${table};
    `);
    if (table === 'touches') await runner.query('ALTER SEQUENCE touches_id_seq OWNED BY touches_partitioned.id');
    await runner.query(`DROP TABLE ${table}; ALTER TABLE ${table}_partitioned RENAME TO ${table}`);
  }

  /** Drops the foreign keys other tables hold to `table`, returning them to be re-added elsewhere. */
  private async dropForeignKeysTo(runner: QueryRunner, table: string): Promise<ForeignKey[]> {
    const keys = await this.foreignKeysTo(runner, table);
    for (const fk of keys) await runner.query(`ALTER TABLE ${fk.holder} DROP CONSTRAINT ${fk.name}`);
    return keys;
  }

  private async addForeignKeys(runner: QueryRunner, keys: readonly ForeignKey[], target: string): Promise<void> {
    for (const fk of keys) await runner.query(`ALTER TABLE ${fk.holder} ADD CONSTRAINT ${fk.name} FOREIGN KEY (${fk.column}) REFERENCES ${target}${fk.rest}`);
  }

  /** The single-column foreign keys other tables hold to `table`, with what follows their REFERENCES clause (ON DELETE …). */
  private async foreignKeysTo(runner: QueryRunner, table: string): Promise<ForeignKey[]> {
    const rows = (await runner.query(
      `SELECT conrelid::regclass::text AS holder, conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
       WHERE contype = 'f' AND confrelid = $1::regclass AND conrelid <> confrelid AND conparentid = 0 ORDER BY 1, 2`,
      [table],
    )) as { holder: string; name: string; def: string }[];
    return rows.map((row) => {
      const match = /^FOREIGN KEY \((\w+)\) REFERENCES [\w.]+\(\w+\)(.*)$/.exec(row.def);
      if (!match) throw new Error(`cannot move foreign key ${row.name} of ${row.holder}: ${row.def}`);
      return { holder: row.holder, name: row.name, column: match[1]!, rest: match[2]! };
    });
  }
}
