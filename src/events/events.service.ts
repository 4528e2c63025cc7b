import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CaseLifecycle, EventRejected, QueueEffects } from '../cases/case-lifecycle.service';
import { Clock } from '../common/clock';
import { mapWithConcurrency } from '../common/concurrency';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import type { DunningEvent } from './event.schemas';
import { validateEvent } from './event-validation';

export interface EventResult {
  id: string | null;
  status: 'accepted' | 'duplicate' | 'rejected';
  caseId?: string;
  error?: string;
}

const invoiceOf = (event: DunningEvent): string =>
  event.type === 'invoice.overdue' ? event.data.invoice.externalId : event.data.invoiceExternalId;

/** Ingests events: validate each, apply each in its own transaction, idempotent by event id. */
@Injectable()
export class EventsService {
  private readonly parallelism: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly lifecycle: CaseLifecycle,
    private readonly scheduler: StepScheduler,
    private readonly clock: Clock,
  ) {
    this.parallelism = Math.max(1, Math.floor(config.DATABASE_POOL_SIZE / 2));
  }

  async ingest(raw: unknown[], actor: string): Promise<EventResult[]> {
    const results: EventResult[] = new Array(raw.length);
    // Events of one invoice run in order; different invoices run side by side.
    const lanes = new Map<string, { index: number; event: DunningEvent }[]>();
    raw.forEach((entry, index) => {
      const checked = validateEvent(entry);
      if (!checked.ok) {
        results[index] = { id: checked.id, status: 'rejected', error: checked.error };
        return;
      }
      const key = invoiceOf(checked.event);
      const lane = lanes.get(key) ?? [];
      lane.push({ index, event: checked.event });
      lanes.set(key, lane);
    });
    const effects: QueueEffects = { enqueue: [], withdraw: [] };
    try {
      await mapWithConcurrency([...lanes.values()], this.parallelism, async (lane) => {
        for (const { index, event } of lane) results[index] = await this.applyOne(event, actor, effects);
      });
    } finally {
      // Events committed before a failure still get their jobs now rather than at the next reconcile.
      await this.scheduler.withdraw(effects.withdraw);
      await this.scheduler.enqueue(effects.enqueue);
    }
    return results;
  }

  private async applyOne(event: DunningEvent, actor: string, effects: QueueEffects): Promise<EventResult> {
    const local: QueueEffects = { enqueue: [], withdraw: [] };
    try {
      const result = await this.dataSource.transaction(async (m): Promise<EventResult> => {
        await m.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`invoice:${invoiceOf(event)}`]);
        const fresh = await m.query(
          'INSERT INTO processed_events (event_id, type, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING event_id',
          [event.id, event.type, this.clock.now()],
        );
        if (fresh.length === 0) {
          const [seen] = await m.query('SELECT case_id FROM processed_events WHERE event_id = $1', [event.id]);
          return { id: event.id, status: 'duplicate', caseId: seen?.case_id ?? undefined };
        }
        const applied = await this.apply(m, event, actor, local);
        await m.query('UPDATE processed_events SET case_id = $2 WHERE event_id = $1', [event.id, applied.caseId]);
        return { id: event.id, status: applied.duplicate ? 'duplicate' : 'accepted', caseId: applied.caseId };
      });
      effects.enqueue.push(...local.enqueue);
      effects.withdraw.push(...local.withdraw);
      return result;
    } catch (error) {
      if (error instanceof EventRejected) return { id: event.id, status: 'rejected', error: error.message };
      throw error;
    }
  }

  private apply(m: Parameters<CaseLifecycle['openCase']>[0], event: DunningEvent, actor: string, effects: QueueEffects) {
    switch (event.type) {
      case 'invoice.overdue':
        return this.lifecycle.openCase(m, event.id, event.data, actor, effects);
      case 'payment.received':
        return this.lifecycle.applyPayment(m, event.id, event.data, actor, effects);
      case 'invoice.cancelled':
        return this.lifecycle.cancelInvoice(m, event.id, event.data, actor, effects);
      case 'dispute.opened':
        return this.lifecycle.openDispute(m, event.id, event.data, actor, effects);
      case 'dispute.resolved':
        return this.lifecycle.resolveDispute(m, event.id, event.data, actor, effects);
    }
  }
}
