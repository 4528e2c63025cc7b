import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The reports read a cohort's contact and promise touches by case, the qa.scored touches and the
 * findings by time; on a large trail these partial indexes keep them from reading every touch.
 * The kinds are those of src/reports/report.rules.ts (ATTEMPT_KINDS, PROMISE_KINDS).
 */
export class ReportIndexes1765100000000 implements MigrationInterface {
  name = 'ReportIndexes1765100000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE INDEX touches_report_facts ON touches (case_id, kind) WHERE kind IN
        ('notice.sent', 'notice.failed', 'letter.sent', 'letter.failed', 'contact.recorded', 'promise.recorded', 'promise.kept', 'promise.broken');
      CREATE INDEX touches_qa_scored ON touches (at) WHERE kind = 'qa.scored';
      CREATE INDEX qa_findings_by_time ON qa_findings (created_at);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX touches_report_facts, touches_qa_scored, qa_findings_by_time');
  }
}
