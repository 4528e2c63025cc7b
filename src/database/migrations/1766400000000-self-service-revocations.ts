import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When an operator last revoked a case's self-service links: every link of the case issued at
 * or before it is refused. One row per case; each revocation is also a touch.
 */
export class SelfServiceRevocations1766400000000 implements MigrationInterface {
  name = 'SelfServiceRevocations1766400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE self_service_revocations (
        case_id uuid PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
        revoked_at timestamptz NOT NULL
      )
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE self_service_revocations');
  }
}
