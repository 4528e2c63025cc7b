import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The QA roll-ups read the qa.scored touches of a period and the findings created in it; these
 * indexes keep them proportional to what was scored rather than to the whole trail. The KPIs need
 * none: a cohort's touches come by case through touches (case_id, seq), and an index on the
 * contact kinds measured no better on 100,000 cases while it would cost every sent notice a write.
 */
export class ReportIndexes1765100000000 implements MigrationInterface {
  name = 'ReportIndexes1765100000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE INDEX touches_qa_scored ON touches (at) WHERE kind = 'qa.scored';
      CREATE INDEX qa_findings_by_time ON qa_findings (created_at);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX touches_qa_scored, qa_findings_by_time');
  }
}
