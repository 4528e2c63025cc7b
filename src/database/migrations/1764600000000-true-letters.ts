import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What letters need to state only what the record holds: the guarantee's type, the contract's
 * payment allocation order, late-fee adjustments (a backdated payment lowers an assessed fee by a
 * new line, never an edit), the figures each batch item acted on, and the key letters are signed with.
 * A case's fees are no longer a stored total: domain/account.ts works them out from the payments.
 */
export class TrueLetters1764600000000 implements MigrationInterface {
  name = 'TrueLetters1764600000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE guarantors ADD COLUMN guarantee_type text NOT NULL DEFAULT 'general' CHECK (guarantee_type IN ('general', 'joint'));
      ALTER TABLE invoices ADD COLUMN payment_allocation text[];
      -- Every account reads its case's payments.
      CREATE INDEX payments_by_case ON payments (case_id, paid_at);
      ALTER TABLE cases DROP COLUMN fees_minor;

      ALTER TABLE fee_assessments DROP CONSTRAINT fee_assessments_kind_check, DROP CONSTRAINT fee_assessments_amount_minor_check;
      ALTER TABLE fee_assessments
        ADD CONSTRAINT fee_assessments_kind_check CHECK (kind IN ('late-fee', 'late-fee-adjustment', 'broken-promise')),
        ADD CONSTRAINT fee_assessments_amount_minor_check CHECK (amount_minor >= 0 OR kind = 'late-fee-adjustment');

      ALTER TABLE batch_items ADD COLUMN amounts jsonb;

      -- The development signing key, made at first start when no SIGNING_P12_FILE is set, so
      -- every process of the deployment signs with the same certificate.
      CREATE TABLE signing_keys (
        name text PRIMARY KEY,
        private_key text NOT NULL,
        certificate text NOT NULL,
        created_at timestamptz NOT NULL
      );
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP TABLE signing_keys;
      ALTER TABLE batch_items DROP COLUMN amounts;
      ALTER TABLE fee_assessments DROP CONSTRAINT fee_assessments_kind_check, DROP CONSTRAINT fee_assessments_amount_minor_check;
      ALTER TABLE fee_assessments DISABLE TRIGGER fee_assessments_append_only;
      DELETE FROM fee_assessments WHERE kind = 'late-fee-adjustment';
      ALTER TABLE fee_assessments ENABLE TRIGGER fee_assessments_append_only;
      ALTER TABLE fee_assessments
        ADD CONSTRAINT fee_assessments_kind_check CHECK (kind IN ('late-fee', 'broken-promise')),
        ADD CONSTRAINT fee_assessments_amount_minor_check CHECK (amount_minor >= 0);
      ALTER TABLE cases ADD COLUMN fees_minor bigint NOT NULL DEFAULT 0;
      UPDATE cases c SET fees_minor = COALESCE((SELECT sum(amount_minor) FROM fee_assessments f WHERE f.case_id = c.id), 0);
      DROP INDEX payments_by_case;
      ALTER TABLE invoices DROP COLUMN payment_allocation;
      ALTER TABLE guarantors DROP COLUMN guarantee_type;
    `);
  }
}
