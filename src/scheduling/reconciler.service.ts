import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { OnSweep } from '../jobs/job-handlers';
import { SweepName } from '../jobs/job-names';
import { StepScheduler } from './step-scheduler.service';

const PAGE = 1000;
/** A step left `running` this long lost its worker (crash, Redis flush); run it again. */
const STALE_RUNNING_MS = 10 * 60_000;

/** Re-creates missing jobs for every pending step inside the horizon, at boot and every RECONCILE_EVERY. */
@Injectable()
export class Reconciler {
  constructor(
    private readonly dataSource: DataSource,
    private readonly scheduler: StepScheduler,
    private readonly clock: Clock,
  ) {}

  @OnSweep(SweepName.Reconcile)
  async reconcile(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      // One reconciler at a time across processes; the others skip this round.
      const [{ locked }] = await manager.query('SELECT pg_try_advisory_xact_lock(727004) AS locked');
      if (!locked) return 0;
      const horizon = this.scheduler.horizon();
      const staleBefore = new Date(this.clock.now().getTime() - STALE_RUNNING_MS);
      let after: { dueAt: Date; id: string } = { dueAt: new Date(0), id: '00000000-0000-0000-0000-000000000000' };
      let enqueued = 0;
      for (;;) {
        const rows: { id: string; due_at: Date }[] = await manager.query(
          `SELECT s.id, s.due_at FROM scheduled_steps s JOIN cases c ON c.id = s.case_id
           WHERE c.status = 'active' AND s.due_at <= $1 AND (s.due_at, s.id) > ($2, $3)
             AND (s.status IN ('pending', 'deferred') OR (s.status = 'running' AND s.started_at < $4))
           ORDER BY s.due_at, s.id LIMIT ${PAGE}`,
          [horizon, after.dueAt, after.id, staleBefore],
        );
        enqueued += await this.scheduler.enqueue(rows.map((row) => ({ id: row.id, dueAt: row.due_at })));
        if (rows.length < PAGE) break;
        const last = rows[rows.length - 1];
        after = { dueAt: last.due_at, id: last.id };
      }
      return enqueued;
    });
  }
}
