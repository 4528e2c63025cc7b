import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763900000000 implements MigrationInterface {
  name = 'InitialSchema1763900000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE debtors (
        id uuid PRIMARY KEY,
        external_id text NOT NULL UNIQUE,
        name text NOT NULL,
        email text,
        phone text,
        address jsonb,
        locale text NOT NULL,
        timezone text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );

      CREATE TABLE invoices (
        id uuid PRIMARY KEY,
        external_id text NOT NULL UNIQUE,
        debtor_id uuid NOT NULL REFERENCES debtors(id),
        contract_ref text,
        currency char(3) NOT NULL,
        amount_due_minor bigint NOT NULL CHECK (amount_due_minor > 0),
        due_date date,
        due_at timestamptz NOT NULL,
        late_fee_rate_per_day numeric(12, 8),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );

      CREATE TABLE policy_versions (
        id uuid PRIMARY KEY,
        key text NOT NULL,
        version integer NOT NULL,
        content_hash text NOT NULL,
        definition jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        UNIQUE (key, version),
        UNIQUE (key, content_hash)
      );

      CREATE TABLE cases (
        id uuid PRIMARY KEY,
        invoice_id uuid NOT NULL REFERENCES invoices(id),
        debtor_id uuid NOT NULL REFERENCES debtors(id),
        policy_version_id uuid NOT NULL REFERENCES policy_versions(id),
        status text NOT NULL CHECK (status IN ('active', 'on_hold', 'resolved', 'cancelled', 'written_off', 'closed')),
        segment text,
        currency char(3) NOT NULL,
        principal_minor bigint NOT NULL,
        balance_minor bigint NOT NULL,
        opened_at timestamptz NOT NULL,
        held_since timestamptz,
        closed_at timestamptz,
        touch_seq integer NOT NULL DEFAULT 0,
        touch_hash text NOT NULL DEFAULT '',
        sealed_seq integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL
      );
      -- One open case per invoice.
      CREATE UNIQUE INDEX cases_one_open_per_invoice ON cases (invoice_id) WHERE status IN ('active', 'on_hold');
      CREATE INDEX cases_listing ON cases (opened_at DESC, id DESC);
      CREATE INDEX cases_by_debtor ON cases (debtor_id);
      CREATE INDEX cases_unsealed ON cases (id) WHERE touch_seq > sealed_seq;

      CREATE TABLE holds (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        kind text NOT NULL,
        reason text,
        placed_at timestamptz NOT NULL,
        placed_by text NOT NULL,
        released_at timestamptz,
        released_by text
      );
      CREATE INDEX holds_active ON holds (case_id) WHERE released_at IS NULL;

      CREATE TABLE payments (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        external_id text NOT NULL UNIQUE,
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        currency char(3) NOT NULL,
        paid_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL
      );

      CREATE TABLE scheduled_steps (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        step_index integer NOT NULL,
        action text NOT NULL,
        definition jsonb NOT NULL,
        due_at timestamptz NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'running', 'done', 'skipped', 'deferred', 'cancelled', 'failed')),
        outcome text,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL,
        UNIQUE (case_id, step_index)
      );
      CREATE INDEX scheduled_steps_due ON scheduled_steps (due_at, id) WHERE status IN ('pending', 'running');

      CREATE TABLE dispatches (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        step_id uuid NOT NULL REFERENCES scheduled_steps(id),
        channel text NOT NULL,
        recipient text NOT NULL,
        dedupe_key text NOT NULL UNIQUE,
        status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        message_id text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        created_at timestamptz NOT NULL,
        sent_at timestamptz
      );
      CREATE INDEX dispatches_by_case ON dispatches (case_id);

      CREATE TABLE processed_events (
        event_id text PRIMARY KEY,
        type text NOT NULL,
        case_id uuid,
        received_at timestamptz NOT NULL
      );

      CREATE TABLE touches (
        id bigserial PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        seq integer NOT NULL,
        kind text NOT NULL,
        at timestamptz NOT NULL,
        actor text NOT NULL,
        channel text,
        data jsonb NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        UNIQUE (case_id, seq)
      );

      CREATE TABLE audit_seals (
        id bigserial PRIMARY KEY,
        sealed_at timestamptz NOT NULL,
        heads jsonb NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL
      );

      -- The audit trail is evidence: the database itself refuses to change or remove it.
      CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER touches_append_only BEFORE UPDATE OR DELETE ON touches FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
      CREATE TRIGGER touches_no_truncate BEFORE TRUNCATE ON touches FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
      CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
      CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP TABLE audit_seals, touches, processed_events, dispatches, scheduled_steps, payments, holds, cases, policy_versions, invoices, debtors;
      DROP FUNCTION refuse_audit_change();
    `);
  }
}
