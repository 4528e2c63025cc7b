import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The contact gate's history (dispatches per debtor), SMS delivery receipts, debtor flags, promises and plans. */
export class ContactGateAndLifecycle1764100000000 implements MigrationInterface {
  name = 'ContactGateAndLifecycle1764100000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      -- The debtor a dispatch contacts (null for a guarantor): what the gate's caps count.
      ALTER TABLE dispatches
        ADD COLUMN debtor_id uuid REFERENCES debtors(id),
        ADD COLUMN provider_message_id text,
        ADD COLUMN delivery_status text CHECK (delivery_status IN ('delivered', 'failed')),
        ADD COLUMN delivered_at timestamptz;
      UPDATE dispatches x SET debtor_id = c.debtor_id FROM cases c WHERE c.id = x.case_id;
      -- The gate counts a debtor's recent contacts per channel.
      CREATE INDEX dispatches_recent_by_debtor ON dispatches (debtor_id, created_at) WHERE status <> 'failed';

      -- Deferred steps wait for their moment like pending ones: the reconciler finds them by this index.
      DROP INDEX scheduled_steps_due;
      CREATE INDEX scheduled_steps_due ON scheduled_steps (due_at, id) WHERE status IN ('pending', 'running', 'deferred');

      ALTER TABLE debtors
        ADD COLUMN cease_contact boolean NOT NULL DEFAULT false,
        ADD COLUMN deceased boolean NOT NULL DEFAULT false,
        ADD COLUMN bankrupt boolean NOT NULL DEFAULT false,
        ADD COLUMN wilful boolean NOT NULL DEFAULT false,
        -- The secret in the debtor's unsubscribe links (every email and SMS carries one).
        ADD COLUMN unsubscribe_token text UNIQUE;
      UPDATE debtors SET unsubscribe_token = replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
      ALTER TABLE debtors ALTER COLUMN unsubscribe_token SET NOT NULL;

      CREATE TABLE promises (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        due_date date NOT NULL,
        -- The ladder waits until this moment (end of the promised day plus the grace period).
        pause_until timestamptz NOT NULL,
        -- The case's payments total when the promise was made: kept once payments reach it plus the amount.
        paid_before_minor bigint NOT NULL,
        status text NOT NULL CHECK (status IN ('open', 'kept', 'broken', 'cancelled')),
        made_at timestamptz NOT NULL,
        made_by text NOT NULL,
        source text NOT NULL,
        settled_at timestamptz
      );
      CREATE UNIQUE INDEX promises_one_open_per_case ON promises (case_id) WHERE status = 'open';
      CREATE INDEX promises_open_due ON promises (pause_until) WHERE status = 'open';

      CREATE TABLE payment_plans (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        status text NOT NULL CHECK (status IN ('active', 'completed', 'broken', 'cancelled')),
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        ended_at timestamptz
      );
      CREATE UNIQUE INDEX payment_plans_one_active_per_case ON payment_plans (case_id) WHERE status = 'active';
      CREATE TABLE plan_instalments (
        plan_id uuid NOT NULL REFERENCES payment_plans(id),
        seq integer NOT NULL,
        due_date date NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        -- Cumulative amount due by this instalment, against the case's payments since the plan began.
        cumulative_minor bigint NOT NULL,
        status text NOT NULL CHECK (status IN ('due', 'paid', 'missed')),
        PRIMARY KEY (plan_id, seq)
      );
      ALTER TABLE payment_plans ADD COLUMN paid_before_minor bigint NOT NULL DEFAULT 0;
      ALTER TABLE cases ADD COLUMN paid_minor bigint NOT NULL DEFAULT 0;
      -- Fee lines are late fees (accrued by rate) or fixed charges such as a broken promise's fee.
      ALTER TABLE fee_assessments ADD COLUMN kind text NOT NULL DEFAULT 'late-fee' CHECK (kind IN ('late-fee', 'broken-promise'));
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP TABLE plan_instalments, payment_plans, promises;
      DROP INDEX scheduled_steps_due;
      CREATE INDEX scheduled_steps_due ON scheduled_steps (due_at, id) WHERE status IN ('pending', 'running');
      ALTER TABLE cases DROP COLUMN paid_minor;
      ALTER TABLE fee_assessments DROP COLUMN kind;
      ALTER TABLE debtors DROP COLUMN cease_contact, DROP COLUMN deceased, DROP COLUMN bankrupt, DROP COLUMN wilful, DROP COLUMN unsubscribe_token;
      DROP INDEX dispatches_recent_by_debtor;
      ALTER TABLE dispatches DROP COLUMN debtor_id, DROP COLUMN provider_message_id, DROP COLUMN delivery_status, DROP COLUMN delivered_at;
    `);
  }
}
