import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention of evidence partitions, and what it rests on, each an append-only record:
 *
 * - `audit_exports`: every completed download of the trail, with the newest seal when it started
 *   (its id and hash, sent in the download's `X-Audit-Seal` header): a partition may go only once
 *   an export of the whole trail over its months, and a seal covering its touches, are out;
 * - `retention_runs`: each operator's detach or drop, with the export and seal it relied on;
 * - `chain_anchors`: per case, the last touch a run removed (seq and hash), from which the chain
 *   of the touches kept verifies.
 */
export class EvidenceRetention1766610000000 implements MigrationInterface {
  name = 'EvidenceRetention1766610000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE audit_exports (
        id bigserial PRIMARY KEY,
        exported_at timestamptz NOT NULL,
        actor text NOT NULL,
        from_at timestamptz NOT NULL,
        to_at timestamptz NOT NULL,
        case_id uuid,
        format text NOT NULL,
        touches bigint NOT NULL,
        seal_id bigint REFERENCES audit_seals(id),
        seal_hash text
      );
      CREATE INDEX audit_exports_whole ON audit_exports (from_at, to_at) WHERE case_id IS NULL AND seal_id IS NOT NULL;

      CREATE TABLE retention_runs (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        actor text NOT NULL,
        table_name text NOT NULL CHECK (table_name IN ('touches', 'dispatches')),
        mode text NOT NULL CHECK (mode IN ('detach', 'drop')),
        cutoff timestamptz NOT NULL,
        partitions text[] NOT NULL,
        export_id bigint NOT NULL REFERENCES audit_exports(id),
        seal_id bigint NOT NULL REFERENCES audit_seals(id),
        note text NOT NULL
      );

      CREATE TABLE chain_anchors (
        case_id uuid NOT NULL,
        seq integer NOT NULL,
        hash text NOT NULL,
        run_id bigint NOT NULL REFERENCES retention_runs(id),
        PRIMARY KEY (case_id, seq)
      );
    `);
    for (const table of ['audit_exports', 'retention_runs', 'chain_anchors']) {
      await runner.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
      `);
    }
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE chain_anchors, retention_runs, audit_exports');
  }
}
