import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The scoring sweep's own state: which touches are scored (so none is scored twice), and how far
 * every touch is known scored (the watermark), with the sequence value and snapshot horizon that
 * let it move past touches of transactions still open when they were read; the day up to which
 * every promise is judged (a promise is never recorded for a past day); and an index for the
 * contact gate, which counts people's recorded contacts toward the caps.
 */
export class QaScoring1765050000000 implements MigrationInterface {
  name = 'QaScoring1765050000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE qa_scores (
        touch_id bigint PRIMARY KEY REFERENCES touches(id),
        case_id uuid NOT NULL REFERENCES cases(id),
        score smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
        autofailed boolean NOT NULL,
        scored_at timestamptz NOT NULL
      );
      CREATE TABLE qa_scoring_state (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        watermark bigint NOT NULL DEFAULT 0,
        pending_limit bigint NOT NULL DEFAULT 0,
        pending_xid xid8,
        promises_through date
      );
      INSERT INTO qa_scoring_state DEFAULT VALUES;
      CREATE INDEX touches_contacts ON touches (id) WHERE kind IN ('contact.recorded', 'notice.sent', 'letter.sent');
      CREATE INDEX touches_promises ON touches ((data->>'dueDate'), id) WHERE kind = 'promise.recorded';
      -- The contact gate counts people's recorded contacts toward a debtor's caps.
      CREATE INDEX touches_recorded_contacts ON touches (case_id) WHERE kind = 'contact.recorded';
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(
      'DROP INDEX touches_recorded_contacts; DROP INDEX touches_promises; DROP INDEX touches_contacts; DROP TABLE qa_scoring_state; DROP TABLE qa_scores',
    );
  }
}
