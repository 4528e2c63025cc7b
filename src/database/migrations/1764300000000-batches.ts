import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Finance batches: one row per request (idempotent by key), one item per case it covers. */
export class Batches1764300000000 implements MigrationInterface {
  name = 'Batches1764300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE batches (
        id uuid PRIMARY KEY,
        idempotency_key text NOT NULL UNIQUE,
        -- sha256 of the canonical request body: the same key with another body is a conflict.
        request_hash text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('dunning-run', 'letters', 'terminations')),
        as_of date NOT NULL,
        filter jsonb NOT NULL,
        letter_type text,
        dry_run boolean NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
        total integer NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        cancel_requested_at timestamptz,
        cancelled_by text
      );

      CREATE TABLE batch_items (
        batch_id uuid NOT NULL REFERENCES batches(id),
        seq integer NOT NULL,
        case_id uuid NOT NULL REFERENCES cases(id),
        status text NOT NULL CHECK (status IN ('pending', 'done', 'failed', 'skipped', 'cancelled')),
        outcome text,
        error text,
        processed_at timestamptz,
        PRIMARY KEY (batch_id, seq),
        UNIQUE (batch_id, case_id)
      );
      -- Workers take the next pending items of a batch in order.
      CREATE INDEX batch_items_pending ON batch_items (batch_id, seq) WHERE status = 'pending';
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE batch_items, batches;`);
  }
}
