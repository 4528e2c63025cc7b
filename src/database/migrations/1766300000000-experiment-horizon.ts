import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An experiment's fixed horizon (`cure_within`, an ISO-8601 period: a debtor counts in the test
 * once their first case is that old, cured if it was paid within it), and the verdict each stop or
 * promotion was taken on, kept on the append-only action.
 */
export class ExperimentHorizon1766300000000 implements MigrationInterface {
  name = 'ExperimentHorizon1766300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE experiments ADD COLUMN cure_within text NOT NULL DEFAULT 'P60D' CHECK (cure_within::interval > interval '0');
      ALTER TABLE experiment_actions ADD COLUMN verdict_at_action jsonb;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE experiment_actions DROP COLUMN verdict_at_action; ALTER TABLE experiments DROP COLUMN cure_within');
  }
}
