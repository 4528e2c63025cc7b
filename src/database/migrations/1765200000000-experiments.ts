import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Champion/challenger policy experiments. A case's arm is fixed at opening (`case_arms`, which
 * the database refuses to change), and every admin action on an experiment is an append-only
 * `experiment_actions` row, so the report and its history cannot be rewritten after the fact.
 */
export class Experiments1765200000000 implements MigrationInterface {
  name = 'Experiments1765200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE experiments (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        champion text NOT NULL,
        challenger text NOT NULL CHECK (challenger <> champion),
        challenger_share double precision NOT NULL CHECK (challenger_share > 0 AND challenger_share < 1),
        segment text,
        min_sample integer NOT NULL CHECK (min_sample > 0),
        status text NOT NULL CHECK (status IN ('running', 'stopped', 'promoted')),
        started_at timestamptz NOT NULL,
        started_by text NOT NULL,
        ended_at timestamptz,
        CHECK ((status = 'running') = (ended_at IS NULL))
      );
      -- At most one running experiment splits a champion's cases.
      CREATE UNIQUE INDEX experiments_one_running_per_champion ON experiments (champion) WHERE status = 'running';
      CREATE INDEX experiments_listing ON experiments (started_at DESC, id DESC);

      CREATE TABLE experiment_actions (
        id bigserial PRIMARY KEY,
        experiment_id uuid NOT NULL REFERENCES experiments(id),
        action text NOT NULL CHECK (action IN ('started', 'stopped', 'promoted')),
        actor text NOT NULL,
        at timestamptz NOT NULL,
        note text
      );
      CREATE INDEX experiment_actions_by_experiment ON experiment_actions (experiment_id, id);
      CREATE TRIGGER experiment_actions_append_only BEFORE UPDATE OR DELETE ON experiment_actions FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
      CREATE TRIGGER experiment_actions_no_truncate BEFORE TRUNCATE ON experiment_actions FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();

      CREATE TABLE case_arms (
        case_id uuid PRIMARY KEY REFERENCES cases(id),
        experiment_id uuid NOT NULL REFERENCES experiments(id),
        arm text NOT NULL CHECK (arm IN ('champion', 'challenger')),
        bucket double precision NOT NULL CHECK (bucket >= 0 AND bucket < 1),
        assigned_at timestamptz NOT NULL
      );
      CREATE INDEX case_arms_by_experiment ON case_arms (experiment_id, arm);
      CREATE TRIGGER case_arms_append_only BEFORE UPDATE OR DELETE ON case_arms FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
      CREATE TRIGGER case_arms_no_truncate BEFORE TRUNCATE ON case_arms FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE case_arms, experiment_actions, experiments');
  }
}
