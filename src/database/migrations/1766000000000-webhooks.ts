import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outbound webhooks. An endpoint subscribes to touch kinds; the sweep makes one delivery per
 * endpoint and touch (unique, so a rerun never makes a second), and every attempt of a delivery,
 * the agency's placement webhooks' too, is an append-only `webhook_attempts` row.
 */
export class Webhooks1766000000000 implements MigrationInterface {
  name = 'Webhooks1766000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY,
        url text NOT NULL,
        kinds text[] NOT NULL CHECK (cardinality(kinds) > 0),
        description text,
        -- AES-256-GCM under WEBHOOK_SECRETS_KEY: a database dump alone does not let anyone sign.
        secret_sealed text NOT NULL,
        enabled boolean NOT NULL,
        -- Touches up to this id were written before the endpoint existed: not delivered to it.
        starts_after bigint NOT NULL,
        consecutive_failures integer NOT NULL DEFAULT 0,
        disabled_at timestamptz,
        disabled_reason text,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        updated_at timestamptz NOT NULL
      );
      CREATE INDEX webhook_endpoints_listing ON webhook_endpoints (created_at, id);

      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY,
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id),
        touch_id bigint NOT NULL REFERENCES touches(id),
        case_id uuid NOT NULL REFERENCES cases(id),
        kind text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        -- Each replay runs as a job of its own (the failed job stays for operators).
        replays integer NOT NULL DEFAULT 0,
        last_status_code integer,
        last_error text,
        created_at timestamptz NOT NULL,
        delivered_at timestamptz,
        UNIQUE (endpoint_id, touch_id)
      );
      CREATE INDEX webhook_deliveries_listing ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
      CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (created_at) WHERE status = 'pending';

      CREATE TABLE webhook_attempts (
        id bigserial PRIMARY KEY,
        -- A webhook_deliveries id, or an agency placement's id for the agency's webhook.
        delivery_id uuid NOT NULL,
        target text NOT NULL CHECK (target IN ('endpoint', 'agency')),
        attempt integer NOT NULL CHECK (attempt > 0),
        at timestamptz NOT NULL,
        status_code integer,
        error text,
        duration_ms integer NOT NULL CHECK (duration_ms >= 0),
        -- At most 200 characters of the answer; never the body that was sent.
        excerpt text CHECK (length(excerpt) <= 200)
      );
      CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, id);
      CREATE TRIGGER webhook_attempts_append_only BEFORE UPDATE OR DELETE ON webhook_attempts FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
      CREATE TRIGGER webhook_attempts_no_truncate BEFORE TRUNCATE ON webhook_attempts FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();

      CREATE TABLE webhook_sweep_state (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        watermark bigint NOT NULL DEFAULT 0,
        pending_limit bigint NOT NULL DEFAULT 0,
        pending_xid xid8
      );
      INSERT INTO webhook_sweep_state DEFAULT VALUES;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE webhook_sweep_state, webhook_attempts, webhook_deliveries, webhook_endpoints');
  }
}
