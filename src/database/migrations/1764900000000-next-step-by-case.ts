import type { MigrationInterface, QueryRunner } from 'typeorm';
import { NEXT_PENDING_STEP_FIRST_BODY } from './1764500000000-shared-sql-functions';

/**
 * next_pending_step read the case's steps through a bitmap AND with scheduled_steps_due, the
 * index of every waiting step in the portfolio: once PL/pgSQL switches to its generic plan, each
 * call walked all of them (3 ms a call with 20,000 waiting, half of PostgreSQL's time per notice).
 * Selecting by case alone first keeps it to the case's own few rows, whatever the statistics say.
 */
export class NextStepByCase1764900000000 implements MigrationInterface {
  name = 'NextStepByCase1764900000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE OR REPLACE FUNCTION next_pending_step(for_case uuid, except_step uuid) RETURNS json
      LANGUAGE plpgsql STABLE AS $$
      BEGIN
        RETURN (WITH mine AS MATERIALIZED (SELECT id, status, due_at, step_index FROM scheduled_steps WHERE case_id = for_case)
                SELECT json_build_object('id', n.id, 'dueAt', n.due_at) FROM mine n
                WHERE n.status IN ('pending', 'deferred') AND n.id <> except_step
                ORDER BY n.due_at, n.step_index LIMIT 1);
      END
      $$`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE OR REPLACE FUNCTION next_pending_step(for_case uuid, except_step uuid) RETURNS json ${NEXT_PENDING_STEP_FIRST_BODY}`);
  }
}
