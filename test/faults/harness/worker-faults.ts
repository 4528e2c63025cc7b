import { waitFor } from '../../support/wait-for';
import { type FaultContext, SMTP_POOL_SIZE } from './scenario';
import type { ServiceProcess } from './service-fleet';

/**
 * Holds the SMTP answers until every worker has a message in flight (more held than all but one
 * worker's pool could carry), so that the worker stopped next is surely mid-send.
 */
export async function everyWorkerMidSend(ctx: FaultContext): Promise<void> {
  await ctx.untilDelivered(0.25);
  ctx.stack.smtp.hold();
  const needed = (ctx.fleet.workers.length - 1) * SMTP_POOL_SIZE + 1;
  await waitFor(`${needed} sends held at the SMTP server`, () => ctx.stack.smtp.heldCount >= needed, 60_000, 20);
}

/**
 * SIGKILL of a worker with sends held at the SMTP server, then the held answers: the messages had
 * arrived whole, so the server accepts them, and the killed worker never learns it. Then a new
 * worker takes its place. Returns the victim.
 */
export async function killWorkerMidSend(ctx: FaultContext): Promise<ServiceProcess> {
  await everyWorkerMidSend(ctx);
  const victim = ctx.fleet.workers[0]!;
  const victimPorts = victim.connectionsTo(ctx.stack.smtp.port);
  const held = ctx.stack.smtp.heldCount;
  const heldFromVictim = ctx.stack.smtp.heldFrom(victimPorts);
  victim.signal('SIGKILL');
  await victim.exited;
  await waitFor("the killed worker's SMTP connections to close", () => ctx.stack.smtp.closedFrom(victimPorts), 30_000, 20);
  ctx.stack.smtp.release();
  ctx.note(`killed ${victim.name} with ${held} sends held at the SMTP server, ${heldFromVictim} of them its own`);
  if (heldFromVictim === 0) ctx.violation(`the kill hit no send of ${victim.name} in flight: the scenario tested nothing`);
  await ctx.fleet.addWorker();
  return victim;
}
