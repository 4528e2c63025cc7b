import { waitFor } from '../support/wait-for';
import { faultSuite } from './harness/suite';
import { everyWorkerMidSend, killWorkerMidSend } from './harness/worker-faults';

describe('a worker process stopped while its notices are in flight', () => {
  const { scenario } = faultSuite();

  scenario(
    'SIGKILL (inDoubt: resend): nothing is lost; a resend carries the first Message-ID and a notice.in_doubt touch',
    { name: 'worker-sigkill', duplicates: 'same-message-id-and-in-doubt-touch', inDoubt: 'resend' },
    async (ctx) => {
      await killWorkerMidSend(ctx);
    },
  );

  scenario('SIGTERM: the worker finishes its sends and exits 0; nothing lost, nothing twice', { name: 'worker-sigterm', duplicates: 'none' }, async (ctx) => {
    await everyWorkerMidSend(ctx);
    const victim = ctx.fleet.workers[0]!;
    const heldFromVictim = ctx.stack.smtp.heldFrom(victim.connectionsTo(ctx.stack.smtp.port));
    if (heldFromVictim === 0) ctx.violation(`the SIGTERM hit no send of ${victim.name} in flight: the scenario tested nothing`);
    victim.signal('SIGTERM');
    await waitFor('the graceful shutdown to begin', () => victim.output().includes('SIGTERM: finishing running jobs'), 30_000);
    ctx.stack.smtp.release();
    // The compose file's grace period; past it an orchestrator would SIGKILL.
    const exit = await Promise.race([victim.exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 60_000).unref())]);
    if (exit === 'hung') {
      ctx.violation(`${victim.name} did not exit within 60 s of SIGTERM`);
      victim.signal('SIGKILL');
    } else if (exit.code !== 0) ctx.violation(`${victim.name} exited ${exit.code ?? exit.signal} after SIGTERM, not 0`);
    else ctx.note(`${victim.name} exited 0 after SIGTERM, with ${heldFromVictim} of its sends held at the SMTP server meanwhile`);
    await ctx.fleet.addWorker();
  });
});
