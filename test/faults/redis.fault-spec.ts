import { outageOf } from './harness/outage';
import { RECONCILE_EVERY_MS } from './harness/scenario';
import { faultSuite } from './harness/suite';

describe('Redis lost while notices are in flight', () => {
  const { scenario } = faultSuite();

  scenario('FLUSHALL: the reconciler brings every job back; nothing lost, nothing twice', { name: 'redis-flushall', duplicates: 'none' }, async (ctx) => {
    await ctx.untilDelivered(0.3);
    await ctx.stack.redis.flushAll();
    ctx.note(`FLUSHALL at ${ctx.delivered()} of ${ctx.expected} notices`);
  });

  scenario(
    'killed and restarted empty: the processes reconnect; nothing lost, nothing twice, no crash',
    { name: 'redis-kill-restart', duplicates: 'none' },
    async (ctx) => {
      await ctx.untilDelivered(0.3);
      await ctx.stack.redis.kill();
      ctx.note(`redis-server killed at ${ctx.delivered()} of ${ctx.expected} notices, down for ${(2 * RECONCILE_EVERY_MS) / 1000} s`);
      await outageOf(2 * RECONCILE_EVERY_MS);
      await ctx.stack.redis.start();
    },
  );
});
