import { Logger } from '@nestjs/common';
import { Client } from 'pg';

const logger = new Logger('Database');

/** Connection errors seen on this process's PostgreSQL clients, for the metrics. */
export const connectionErrors = { count: 0 };

/**
 * A pg client with an error listener from its creation. pg-pool and TypeORM attach theirs only at
 * hand-over moments, and an error in between (57P01 when PostgreSQL restarts) would be an
 * unhandled 'error' event, which ends the process. The query in flight still fails, and its
 * caller retries; the pool replaces the broken client.
 */
export class GuardedClient extends Client {
  constructor(config?: ConstructorParameters<typeof Client>[0]) {
    super(config);
    this.on('error', (error: Error & { code?: string }) => {
      connectionErrors.count++;
      logger.warn(`a database connection failed${error.code ? ` (${error.code})` : ''}: ${error.message}; the pool reconnects`);
    });
  }
}
