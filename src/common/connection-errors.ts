import type { Logger } from '@nestjs/common';

/** Redis connection errors seen by this process (queues, workers, limiter, health), for the metrics. */
export const redisConnectionErrors = { count: 0 };

/**
 * Gives an emitter with a connection (an ioredis client, a BullMQ queue or worker) its 'error'
 * listener: without one, a lost connection would end the process. The client reconnects by
 * itself; each error is counted (in `counter`, Redis's by default), and logged when it differs
 * from the last one (a retry loop repeats it).
 */
export function watchRedisErrors(
  emitter: { on(event: 'error', listener: (error: Error) => void): unknown },
  what: string,
  logger: Pick<Logger, 'warn'>,
  counter: { count: number } = redisConnectionErrors,
): void {
  let last = '';
  emitter.on('error', (error: Error) => {
    counter.count++;
    if (error.message === last) return;
    last = error.message;
    logger.warn(`${what}: ${error.message}; reconnecting`);
  });
}
