import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit export reads touches by time. */
export class AuditExport1764400000000 implements MigrationInterface {
  name = 'AuditExport1764400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE INDEX touches_by_time ON touches (at, id)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX touches_by_time`);
  }
}
