import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The reminder channels a debtor declined on the self-service page (email, sms): their notices
 * go by the step's fallback or not at all. The debtor's own choice: events never change it.
 */
export class DebtorDeclinedChannels1766500000000 implements MigrationInterface {
  name = 'DebtorDeclinedChannels1766500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE debtors ADD COLUMN declined_channels text[] NOT NULL DEFAULT '{}' CHECK (declined_channels <@ ARRAY['email', 'sms']::text[])`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE debtors DROP COLUMN declined_channels');
  }
}
