import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A dispatch is `sending` from its claim until its outcome is recorded, so a later run can tell a
 * send a crash interrupted (it may have gone out) from one that failed; `in_doubt` marks such a
 * send left for an operator.
 */
export class SendsInDoubt1764700000000 implements MigrationInterface {
  name = 'SendsInDoubt1764700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE dispatches DROP CONSTRAINT dispatches_status_check;
      ALTER TABLE dispatches ADD CONSTRAINT dispatches_status_check CHECK (status IN ('pending', 'sending', 'sent', 'in_doubt', 'failed'));
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      -- A send held in doubt must not go out again unasked: failed, it waits for an operator's retry.
      UPDATE dispatches SET status = 'failed' WHERE status = 'in_doubt';
      UPDATE dispatches SET status = 'pending' WHERE status = 'sending';
      ALTER TABLE dispatches DROP CONSTRAINT dispatches_status_check;
      ALTER TABLE dispatches ADD CONSTRAINT dispatches_status_check CHECK (status IN ('pending', 'sent', 'failed'));
    `);
  }
}
