import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AdvisoryLock, Locks } from '../database/locks.repository';
import { Transactions } from '../database/transactions';
import type { DueStep } from '../domain/step';
import { OnSweep } from '../jobs/job-handlers';
import { SweepName } from '../jobs/job-names';
import { StepRepository } from './step.repository';
import { StepScheduler } from './step-scheduler.service';

const PAGE = 1000;
/** A step left `running` this long lost its worker (crash, Redis flush); run it again. */
const STALE_RUNNING_MS = 10 * 60_000;

/** Re-creates missing jobs for every pending step inside the horizon, at boot and every RECONCILE_EVERY. */
@Injectable()
export class Reconciler {
  constructor(
    private readonly transactions: Transactions,
    private readonly locks: Locks,
    private readonly steps: StepRepository,
    private readonly scheduler: StepScheduler,
    private readonly clock: Clock,
  ) {}

  @OnSweep(SweepName.Reconcile)
  async reconcile(): Promise<number> {
    return this.transactions.run(async (tx) => {
      // One reconciler at a time across processes; the others skip this round.
      if (!(await this.locks.tryTake(tx, AdvisoryLock.Reconcile))) return 0;
      const horizon = this.scheduler.horizon();
      const staleBefore = new Date(this.clock.now().getTime() - STALE_RUNNING_MS);
      let after: DueStep = { dueAt: new Date(0), id: '00000000-0000-0000-0000-000000000000' };
      let enqueued = 0;
      for (;;) {
        const due = await this.steps.dueWithin(tx, horizon, after, staleBefore, PAGE);
        enqueued += await this.scheduler.enqueue(due);
        const last = due[due.length - 1];
        if (!last || due.length < PAGE) break;
        after = last;
      }
      return enqueued;
    });
  }
}
