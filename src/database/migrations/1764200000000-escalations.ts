import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Escalations: work items for people (collectors, legal review) and placements with an external
 * collection agency, with the state of the webhook that notifies the agency.
 *
 * Outcomes by kind: a collector reports contacted | promised | refused | unreachable | wrong-party;
 * legal review reports filed (a claim went to court) | settled (settled out of court) | closed
 * (reviewed, no action).
 */
export class Escalations1764200000000 implements MigrationInterface {
  name = 'Escalations1764200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE work_items (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        -- The ladder step that escalated (null when escalated by hand): a rerun of the step finds its item.
        step_id uuid REFERENCES scheduled_steps(id),
        kind text NOT NULL CHECK (kind IN ('collector', 'legal')),
        status text NOT NULL CHECK (status IN ('open', 'claimed', 'done')),
        assignee text,
        reason text NOT NULL,
        created_at timestamptz NOT NULL,
        created_by text NOT NULL,
        claimed_at timestamptz,
        outcome text,
        note text,
        -- What the debtor promised ({amount, currency, dueDate}), with outcome 'promised' only.
        promise jsonb,
        completed_at timestamptz,
        UNIQUE (case_id, step_id),
        CHECK ((status = 'open') = (assignee IS NULL AND claimed_at IS NULL)),
        CHECK ((status = 'done') = (outcome IS NOT NULL AND completed_at IS NOT NULL)),
        CHECK (outcome IS NULL
          OR (kind = 'collector' AND outcome IN ('contacted', 'promised', 'refused', 'unreachable', 'wrong-party'))
          OR (kind = 'legal' AND outcome IN ('filed', 'settled', 'closed'))),
        CHECK (promise IS NULL OR outcome = 'promised')
      );
      -- The work queue: open (or claimed) items of a kind, oldest first.
      CREATE INDEX work_items_queue ON work_items (status, kind, created_at, id);
      CREATE INDEX work_items_by_assignee ON work_items (assignee, status, created_at, id) WHERE assignee IS NOT NULL;
      CREATE INDEX work_items_by_case ON work_items (case_id);

      CREATE TABLE agency_placements (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        step_id uuid REFERENCES scheduled_steps(id),
        agency text NOT NULL,
        commission_rate numeric(6, 4) NOT NULL CHECK (commission_rate >= 0 AND commission_rate < 1),
        reason text NOT NULL,
        placed_at timestamptz NOT NULL,
        placed_by text NOT NULL,
        -- The balance handed over, as it stood at placement.
        balance_minor bigint NOT NULL CHECK (balance_minor > 0),
        currency char(3) NOT NULL,
        -- 'none': no webhook configured, the agency works from the CSV export.
        webhook_status text NOT NULL CHECK (webhook_status IN ('pending', 'sent', 'failed', 'none')),
        webhook_attempts integer NOT NULL DEFAULT 0,
        webhook_last_error text,
        notified_at timestamptz,
        UNIQUE (case_id, step_id)
      );
      -- A case is with one agency at a time.
      CREATE UNIQUE INDEX agency_placements_one_per_case ON agency_placements (case_id);
      CREATE INDEX agency_placements_export ON agency_placements (placed_at, id);
      CREATE INDEX agency_placements_by_agency ON agency_placements (agency, placed_at, id);
      CREATE INDEX agency_placements_webhook_pending ON agency_placements (placed_at) WHERE webhook_status = 'pending';
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE agency_placements, work_items;');
  }
}
