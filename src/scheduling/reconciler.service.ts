import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Batches } from '../batches/batches.service';
import { Commitments } from '../cases/commitments.service';
import { AgencyWebhooks } from '../escalations/agency-webhooks';
import { LegalClockCheck } from '../letters/legal-clock-check.service';
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

/** Runs the periodic maintenance of a worker process: reconcile steps and agency webhooks, seal, legal clocks, broken promises and plans, stalled batches. */
@Injectable()
export class MaintenanceTimers implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MaintenanceTimers.name);
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reconciler: Reconciler,
    private readonly audit: AuditService,
    private readonly legalClocks: LegalClockCheck,
    private readonly commitments: Commitments,
    private readonly batches: Batches,
    private readonly webhooks: AgencyWebhooks,
  ) {}

  onApplicationBootstrap(): void {
    this.every('legal clocks', this.config.LEGAL_CHECK_EVERY, () => this.legalClocks.run(), true);
    this.every('broken promises and plans', this.config.COMMITMENT_CHECK_EVERY, () => this.commitments.checkDue(), true);
    this.every('stalled batches', this.config.RECONCILE_EVERY, () => this.batches.resumeStalled(), true);
    this.every('agency webhooks', this.config.RECONCILE_EVERY, () => this.webhooks.enqueuePending(), true);
    this.every('reconcile', this.config.RECONCILE_EVERY, () => this.reconciler.reconcile(), true);
    this.every('seal', this.config.SEAL_EVERY, () => this.audit.seal(), false);
  }

  async onModuleDestroy(): Promise<void> {
    this.timers.forEach((timer) => clearInterval(timer));
    await Promise.allSettled([...this.running]);
  }

  private every(name: string, ms: number, task: () => Promise<number>, atBoot: boolean): void {
    let busy = false;
    const run = () => {
      if (busy) return;
      busy = true;
      const promise = task()
        .then((count) => count && this.logger.log(`${name}: ${count}`))
        .catch((error: Error) => this.logger.warn(`${name} failed, will try again: ${error.message}`))
        .finally(() => {
          busy = false;
          this.running.delete(promise);
        });
      this.running.add(promise);
    };
    if (atBoot) run();
    this.timers.push(setInterval(run, ms));
  }
}
