import { waitFor } from '../support/wait-for';
import { SMTP_POOL_SIZE } from './harness/scenario';
import { faultSuite } from './harness/suite';

describe('PostgreSQL restarted while notices are in flight', () => {
  const { scenario } = faultSuite();

  scenario(
    'three fast restarts, each answering held sends while PostgreSQL is down: every process stays up; nothing lost, nothing twice',
    { name: 'postgres-restarts', duplicates: 'none' },
    async (ctx) => {
      for (const fraction of [0.2, 0.45, 0.7]) {
        await ctx.untilDelivered(fraction);
        // Sends held at the SMTP server are accepted while the database is away: their outcomes cannot be recorded at once.
        ctx.stack.smtp.hold();
        const needed = (ctx.fleet.workers.length - 1) * SMTP_POOL_SIZE + 1;
        await waitFor(`${needed} sends held at the SMTP server`, () => ctx.stack.smtp.heldCount >= needed, 60_000, 20);
        const held = ctx.stack.smtp.heldCount;
        const started = Date.now();
        const down = await ctx.stack.pg.restart(() => ctx.stack.smtp.release());
        ctx.note(
          `pg_ctl restart -m fast at ${ctx.delivered()} of ${ctx.expected} notices (${Date.now() - started} ms), ` +
            `${held} held sends accepted ${down ? 'while it was down' : 'after it (the restart was too quick to see)'}`,
        );
      }
    },
  );
});
