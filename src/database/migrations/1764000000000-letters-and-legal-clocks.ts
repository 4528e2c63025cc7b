import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Letters as evidence, late-fee ledger, guarantors, and the limitation and guarantee clocks. */
export class LettersAndLegalClocks1764000000000 implements MigrationInterface {
  name = 'LettersAndLegalClocks1764000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE invoices
        ADD COLUMN contract_date date,
        ADD COLUMN jurisdiction text,
        ADD COLUMN limitation_date date,
        -- The limitation date a limitation.expiring touch was last recorded for (one warning per date).
        ADD COLUMN limitation_warned_for date;
      UPDATE invoices SET limitation_date = (COALESCE(due_date, due_at::date) + interval '3 years')::date;
      ALTER TABLE invoices ALTER COLUMN limitation_date SET NOT NULL;
      CREATE INDEX invoices_limitation ON invoices (limitation_date);

      ALTER TABLE cases
        ADD COLUMN fees_minor bigint NOT NULL DEFAULT 0,
        ADD COLUMN contract_status text NOT NULL DEFAULT 'active' CHECK (contract_status IN ('active', 'terminated')),
        ADD COLUMN contract_terminated_at timestamptz;

      -- Letters and other one-off actions an operator asks for run as steps outside the ladder.
      ALTER TABLE scheduled_steps ADD COLUMN requested_by text;

      CREATE TABLE guarantors (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        external_id text NOT NULL,
        name text NOT NULL,
        email text,
        address jsonb,
        guarantee_ends_on date NOT NULL,
        -- The day a guarantor notice was delivered (tracking), which preserves the guarantee.
        notified_on date,
        warned_at timestamptz,
        created_at timestamptz NOT NULL,
        UNIQUE (case_id, external_id)
      );
      CREATE INDEX guarantors_unnotified ON guarantors (guarantee_ends_on) WHERE notified_on IS NULL AND warned_at IS NULL;

      CREATE TABLE fee_assessments (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        step_id uuid REFERENCES scheduled_steps(id),
        assessed_at timestamptz NOT NULL,
        as_of date NOT NULL,
        days integer NOT NULL,
        rate_per_day numeric(10, 8) NOT NULL,
        base_minor bigint NOT NULL,
        -- The accrued total as of the date, and what this line adds to the case's fees.
        accrued_minor bigint NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
        cap_minor bigint,
        actor text NOT NULL
      );
      CREATE INDEX fee_assessments_by_case ON fee_assessments (case_id, assessed_at);
      CREATE TRIGGER fee_assessments_append_only BEFORE UPDATE OR DELETE ON fee_assessments FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();

      CREATE SEQUENCE letter_number_seq;
      CREATE TABLE letters (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        step_id uuid NOT NULL REFERENCES scheduled_steps(id),
        number text NOT NULL UNIQUE,
        type text NOT NULL CHECK (type IN ('payment-demand', 'contract-termination', 'document-request', 'guarantor-notice')),
        recipient_role text NOT NULL CHECK (recipient_role IN ('debtor', 'guarantor')),
        recipient_id uuid NOT NULL,
        recipient_name text NOT NULL,
        recipient_email text,
        recipient_address jsonb,
        locale text NOT NULL,
        template_key text NOT NULL,
        template_version text NOT NULL,
        fields jsonb NOT NULL,
        pdf bytea NOT NULL,
        sha256 text NOT NULL,
        deliver text[] NOT NULL,
        email_status text CHECK (email_status IN ('pending', 'sent', 'failed', 'skipped')),
        email_dispatch_id uuid REFERENCES dispatches(id),
        post_status text CHECK (post_status IN ('queued', 'posted', 'delivered', 'returned', 'skipped')),
        carrier text,
        tracking_number text,
        posted_at timestamptz,
        delivered_at timestamptz,
        returned_at timestamptz,
        issued_at timestamptz NOT NULL,
        issued_by text NOT NULL,
        UNIQUE (step_id, recipient_id)
      );
      CREATE INDEX letters_by_case ON letters (case_id, issued_at);
      CREATE INDEX letters_post_queue ON letters (post_status, issued_at, id) WHERE post_status IS NOT NULL;

      -- A letter is evidence: once issued, what it says, to whom, and its bytes never change.
      CREATE FUNCTION refuse_letter_content_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' OR NEW.pdf IS DISTINCT FROM OLD.pdf OR NEW.sha256 IS DISTINCT FROM OLD.sha256
          OR NEW.number IS DISTINCT FROM OLD.number OR NEW.type IS DISTINCT FROM OLD.type OR NEW.fields IS DISTINCT FROM OLD.fields
          OR NEW.recipient_id IS DISTINCT FROM OLD.recipient_id OR NEW.recipient_name IS DISTINCT FROM OLD.recipient_name
          OR NEW.template_key IS DISTINCT FROM OLD.template_key OR NEW.template_version IS DISTINCT FROM OLD.template_version
          OR NEW.issued_at IS DISTINCT FROM OLD.issued_at THEN
          RAISE EXCEPTION 'an issued letter is evidence: % of its content refused', TG_OP USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER letters_content_fixed BEFORE UPDATE OR DELETE ON letters FOR EACH ROW EXECUTE FUNCTION refuse_letter_content_change();
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP TABLE letters, fee_assessments, guarantors;
      DROP SEQUENCE letter_number_seq;
      DROP FUNCTION refuse_letter_content_change();
      ALTER TABLE scheduled_steps DROP COLUMN requested_by;
      ALTER TABLE cases DROP COLUMN fees_minor, DROP COLUMN contract_status, DROP COLUMN contract_terminated_at;
      ALTER TABLE invoices DROP COLUMN contract_date, DROP COLUMN jurisdiction, DROP COLUMN limitation_date, DROP COLUMN limitation_warned_for;
    `);
  }
}
