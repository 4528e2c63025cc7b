import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quality inspection: one row per rule a scored touch failed. The touch that was scored and the
 * `qa.scored` / `qa.finding.*` touches stay the evidence; this table is the review queue's state.
 */
export class QualityInspection1765000000000 implements MigrationInterface {
  name = 'QualityInspection1765000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE qa_findings (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        touch_id bigint NOT NULL REFERENCES touches(id),
        rule_id text NOT NULL,
        autofail boolean NOT NULL,
        detail text NOT NULL,
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'appealed', 'confirmed', 'overturned')),
        created_at timestamptz NOT NULL,
        reviewed_at timestamptz,
        reviewer text,
        review_note text,
        UNIQUE (touch_id, rule_id)
      );
      CREATE INDEX qa_findings_open ON qa_findings (created_at) WHERE status IN ('open', 'appealed');
      CREATE INDEX qa_findings_by_case ON qa_findings (case_id);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE qa_findings');
  }
}
