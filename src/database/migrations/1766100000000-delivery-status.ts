import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery status in: a dispatch keeps every status the delivery model knows (an email's bounce,
 * complaint or open beside an SMS receipt's delivered or failed), provider events find their
 * dispatch by Message-ID, and an address that bounced for good or complained is marked, by a hash
 * of the address, so that no more email goes to it.
 */
export class DeliveryStatus1766100000000 implements MigrationInterface {
  name = 'DeliveryStatus1766100000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE dispatches DROP CONSTRAINT dispatches_delivery_status_check;
      ALTER TABLE dispatches ADD CONSTRAINT dispatches_delivery_status_check
        CHECK (delivery_status IN ('failed', 'soft-bounced', 'delivered', 'opened', 'bounced', 'complained'));
      CREATE INDEX dispatches_by_message_id ON dispatches (message_id);

      CREATE TABLE email_address_status (
        address_key text PRIMARY KEY CHECK (address_key ~ '^[0-9a-f]{64}$'),
        status text NOT NULL CHECK (status IN ('undeliverable', 'complained')),
        since timestamptz NOT NULL,
        dispatch_id uuid NOT NULL REFERENCES dispatches(id),
        source text NOT NULL CHECK (source IN ('ses', 'sendgrid', 'dsn'))
      );
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP TABLE email_address_status;
      DROP INDEX dispatches_by_message_id;
      UPDATE dispatches SET delivery_status = CASE WHEN delivery_status IN ('delivered', 'opened') THEN 'delivered' ELSE 'failed' END
        WHERE delivery_status IS NOT NULL;
      ALTER TABLE dispatches DROP CONSTRAINT dispatches_delivery_status_check;
      ALTER TABLE dispatches ADD CONSTRAINT dispatches_delivery_status_check CHECK (delivery_status IN ('delivered', 'failed'));
    `);
  }
}
