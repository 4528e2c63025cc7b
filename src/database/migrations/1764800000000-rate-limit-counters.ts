import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Request counts per key when the queues run on PostgreSQL and there is no Redis to hold them:
 * the shape rate-limiter-flexible's PostgreSQL store reads and writes.
 */
export class RateLimitCounters1764800000000 implements MigrationInterface {
  name = 'RateLimitCounters1764800000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE rate_limit_counters (
        key varchar(255) PRIMARY KEY,
        points integer NOT NULL DEFAULT 0,
        expire bigint
      );
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE rate_limit_counters');
  }
}
