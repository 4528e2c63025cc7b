import type { MigrationInterface, QueryRunner } from 'typeorm';

/** next_pending_step as this migration made it (1764900000000 replaces it, and restores it on down). */
export const NEXT_PENDING_STEP_FIRST_BODY = `
      LANGUAGE plpgsql STABLE AS $$
      BEGIN
        RETURN (SELECT json_build_object('id', n.id, 'dueAt', n.due_at) FROM scheduled_steps n
                WHERE n.case_id = for_case AND n.status IN ('pending', 'deferred') AND n.id <> except_step
                ORDER BY n.due_at, n.step_index LIMIT 1);
      END
      $$`;

/**
 * Expressions that several repositories' statements share, as SQL functions rather than SQL text
 * passed between modules. The calendar ones are plain SQL expressions, so PostgreSQL inlines
 * them into the statements that use them (and can still use an index on the columns).
 */
export class SharedSqlFunctions1764500000000 implements MigrationInterface {
  name = 'SharedSqlFunctions1764500000000';

  async up(runner: QueryRunner): Promise<void> {
    // domain/ladder.ts daysPastDue: the local day the debt fell due is day 1.
    await runner.query(`
      CREATE FUNCTION days_past_due(at timestamptz, due_at timestamptz, zone text) RETURNS int
      LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN at < due_at THEN 0 ELSE ((at AT TIME ZONE zone)::date - (due_at AT TIME ZONE zone)::date) + 1 END
      $$`);
    // The last instant of a calendar day in a zone: "due by the end of that day".
    await runner.query(`
      CREATE FUNCTION local_day_end(day date, zone text) RETURNS timestamptz
      LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT ((day + 1)::timestamp AT TIME ZONE zone) - interval '1 millisecond'
      $$`);
    // Days from the local day of \`at\` to a calendar day: 0 on the day itself.
    await runner.query(`
      CREATE FUNCTION days_until(day date, at timestamptz, zone text) RETURNS int
      LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT day - (at AT TIME ZONE zone)::date
      $$`);
    // The case's next waiting step other than the given one, as {id, dueAt}; null when none waits.
    await runner.query(`CREATE FUNCTION next_pending_step(for_case uuid, except_step uuid) RETURNS json ${NEXT_PENDING_STEP_FIRST_BODY}`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP FUNCTION next_pending_step(uuid, uuid)');
    await runner.query('DROP FUNCTION days_until(date, timestamptz, text)');
    await runner.query('DROP FUNCTION local_day_end(date, text)');
    await runner.query('DROP FUNCTION days_past_due(timestamptz, timestamptz, text)');
  }
}
