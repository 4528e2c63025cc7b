import type { Logger } from '@nestjs/common';

/** Redis connection errors seen by this process (queues, workers, limiter, health), for the metrics. */
export const redisConnectionErrors = { count: 0 };

/**
 * Gives a Redis-backed emitter (an ioredis client, a BullMQ queue or worker) its 'error' listener:
 * without one, a lost connection would end the process. The client reconnects by itself; each
 * error is counted, and logged when it differs from the last one (a retry loop repeats it).
 */
export function watchRedisErrors(emitter: { on(event: 'error', listener: (error: Error) => void): unknown }, what: string, logger: Pick<Logger, 'warn'>): void {
  let last = '';
  emitter.on('error', (error: Error) => {
    redisConnectionErrors.count++;
    if (error.message === last) return;
    last = error.message;
    logger.warn(`${what}: ${error.message}; reconnecting`);
  });
}
