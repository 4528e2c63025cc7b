import { waitFor } from '../support/wait-for';
import { outageOf } from './harness/outage';
import { RECONCILE_EVERY_MS } from './harness/scenario';
import { faultSuite } from './harness/suite';

/** Long enough for several retries of each refused notice, short of STEP_ATTEMPTS' minute of backoff. */
const OUTAGE_MS = 3 * RECONCILE_EVERY_MS;

describe('the SMTP server failing while notices are in flight', () => {
  const { scenario } = faultSuite();

  scenario('down (connections refused), then up: the retries deliver everything once', { name: 'smtp-down', duplicates: 'none' }, async (ctx) => {
    await ctx.untilDelivered(0.3);
    await ctx.stack.smtp.down();
    ctx.note(`SMTP down at ${ctx.delivered()} of ${ctx.expected} notices for ${OUTAGE_MS / 1000} s`);
    await outageOf(OUTAGE_MS);
    await ctx.stack.smtp.up();
  });

  scenario('answering 421/451 for a while: the retries deliver everything once', { name: 'smtp-4xx', duplicates: 'none' }, async (ctx) => {
    await ctx.untilDelivered(0.3);
    await ctx.stack.smtp.tempFail();
    await outageOf(OUTAGE_MS);
    await ctx.stack.smtp.up();
    ctx.note(`SMTP answered 4xx for ${OUTAGE_MS / 1000} s: ${ctx.stack.smtp.refusals} refusals`);
  });

  scenario(
    '4xx, then a Redis FLUSHALL while the retries wait: the reconciler brings them back; everything once',
    { name: 'smtp-4xx-then-flushall', duplicates: 'none' },
    async (ctx) => {
      await ctx.untilDelivered(0.3);
      await ctx.stack.smtp.tempFail();
      // Enough refused attempts that many retries are waiting in Redis with their backoff.
      const refusals = Math.min(40, Math.ceil(ctx.expected / 6));
      await waitFor(`${refusals} refused SMTP attempts`, () => ctx.stack.smtp.refusals >= refusals, 60_000, 20);
      await ctx.stack.smtp.up();
      await ctx.stack.redis.flushAll();
      ctx.note(`4xx until ${ctx.stack.smtp.refusals} refusals, then FLUSHALL at ${ctx.delivered()} of ${ctx.expected} notices`);
    },
  );
});
