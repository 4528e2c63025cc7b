import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CaseLifecycle, EventRejected, QueueEffects } from '../cases/case-lifecycle.service';
import { Clock } from '../common/clock';
import { mapWithConcurrency } from '../common/concurrency';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { PolicyRegistry } from '../policies/policy-registry.service';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import type { DunningEvent } from './event.schemas';
import { validateEvent } from './event-validation';

export interface EventResult {
  id: string | null;
  status: 'accepted' | 'duplicate' | 'rejected';
  caseId?: string;
  error?: string;
}

/** Events per bulk transaction, and bulk transactions in flight per request. */
const BULK_CHUNK = 250;
const BULK_PARALLELISM = 2;

const invoiceOf = (event: Exclude<DunningEvent, { type: 'debtor.updated' }>): string =>
  event.type === 'invoice.overdue' ? event.data.invoice.externalId : event.data.invoiceExternalId;
/** Events of one lane apply in request order, one at a time: per invoice, or per debtor for debtor updates. */
const laneOf = (event: DunningEvent): string => (event.type === 'debtor.updated' ? `debtor:${event.data.debtor.externalId}` : `invoice:${invoiceOf(event)}`);

/** Ingests events: validate each, then apply them (in bulk where they allow), idempotent by event id. */
@Injectable()
export class EventsService {
  private readonly parallelism: number;
  private readonly logger = new Logger(EventsService.name);

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly lifecycle: CaseLifecycle,
    private readonly scheduler: StepScheduler,
    private readonly clock: Clock,
    private readonly policies: PolicyRegistry,
  ) {
    this.parallelism = Math.max(1, Math.floor(config.DATABASE_POOL_SIZE / 2));
  }

  async ingest(raw: unknown[], actor: string): Promise<EventResult[]> {
    const results: EventResult[] = new Array(raw.length);
    const valid: { index: number; event: DunningEvent }[] = [];
    raw.forEach((entry, index) => {
      const checked = validateEvent(entry);
      if (checked.ok) valid.push({ index, event: checked.event });
      else results[index] = { id: checked.id, status: 'rejected', error: checked.error };
    });
    const perInvoice = new Map<string, number>();
    for (const { event } of valid) perInvoice.set(laneOf(event), (perInvoice.get(laneOf(event)) ?? 0) + 1);
    // Overdue events for invoices named once in the request open their cases in bulk; the rest run
    // one transaction each, in request order per invoice.
    const bulk = valid.filter(({ event }) => event.type === 'invoice.overdue' && perInvoice.get(laneOf(event)) === 1);
    const inBulk = new Set(bulk);
    const lanes = new Map<string, { index: number; event: DunningEvent }[]>();
    for (const entry of valid) {
      if (inBulk.has(entry)) continue;
      const lane = lanes.get(laneOf(entry.event)) ?? [];
      lane.push(entry);
      lanes.set(laneOf(entry.event), lane);
    }
    const chunks = Array.from({ length: Math.ceil(bulk.length / BULK_CHUNK) }, (_, i) => bulk.slice(i * BULK_CHUNK, (i + 1) * BULK_CHUNK));
    const effects: QueueEffects = { enqueue: [], withdraw: [] };
    try {
      await mapWithConcurrency(chunks, BULK_PARALLELISM, (chunk) => this.applyBulk(chunk, actor, results, effects));
      await mapWithConcurrency([...lanes.values()], this.parallelism, (lane) => this.applyEach(lane, actor, results, effects));
    } finally {
      // Events committed before a failure still get their jobs now rather than at the next reconcile.
      await this.scheduler.withdraw(effects.withdraw);
      await this.scheduler.enqueue(effects.enqueue);
    }
    return results;
  }

  /**
   * Opens the cases of many overdue events in one transaction. Duplicates and invoices that already
   * have an open case are answered as one by one; any conflict with a concurrent writer (a deadlock,
   * a unique violation) rolls the chunk back and retries it one event at a time.
   */
  private async applyBulk(chunk: { index: number; event: DunningEvent }[], actor: string, results: EventResult[], effects: QueueEffects): Promise<void> {
    const overdue = chunk.map(({ index, event }) => ({ index, event: event as Extract<DunningEvent, { type: 'invoice.overdue' }> }));
    if (overdue.some(({ event }) => event.data.policy && !this.policies.has(event.data.policy))) return this.applyEach(chunk, actor, results, effects);
    const local: QueueEffects = { enqueue: [], withdraw: [] };
    try {
      const answers = await this.dataSource.transaction(async (m) => {
        await m.query('SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest($1::text[]) AS key', [
          overdue.map(({ event }) => laneOf(event)).sort(),
        ]);
        const fresh: { event_id: string }[] = await m.query(
          `INSERT INTO processed_events (event_id, type, received_at) SELECT id, 'invoice.overdue', $2::timestamptz FROM unnest($1::text[]) AS id
           ON CONFLICT DO NOTHING RETURNING event_id`,
          [overdue.map(({ event }) => event.id), this.clock.now()],
        );
        const freshIds = new Set(fresh.map((row) => row.event_id));
        const seen: { event_id: string; case_id: string | null }[] = await m.query(
          'SELECT event_id, case_id FROM processed_events WHERE event_id = ANY($1::text[])',
          [overdue.filter(({ event }) => !freshIds.has(event.id)).map(({ event }) => event.id)],
        );
        const open: { external_id: string }[] = await m.query(
          `SELECT i.external_id FROM cases c JOIN invoices i ON i.id = c.invoice_id WHERE i.external_id = ANY($1::text[]) AND c.status IN ('active', 'on_hold')`,
          [overdue.map(({ event }) => invoiceOf(event))],
        );
        const hasOpenCase = new Set(open.map((row) => row.external_id));
        const answers = new Map<string, EventResult>(
          seen.map((row) => [row.event_id, { id: row.event_id, status: 'duplicate', caseId: row.case_id ?? undefined }]),
        );
        const toOpen = overdue.filter(({ event }) => freshIds.has(event.id) && !hasOpenCase.has(invoiceOf(event)));
        const caseIds = await this.lifecycle.createCases(
          m,
          toOpen.map(({ event }) => ({ eventId: event.id, data: event.data })),
          actor,
          local,
        );
        toOpen.forEach(({ event }, i) => answers.set(event.id, { id: event.id, status: 'accepted', caseId: caseIds[i] }));
        for (const { event } of overdue.filter(({ event }) => freshIds.has(event.id) && hasOpenCase.has(invoiceOf(event)))) {
          const { caseId } = await this.lifecycle.openCase(m, event.id, event.data, actor, local);
          answers.set(event.id, { id: event.id, status: 'accepted', caseId });
        }
        const accepted = [...answers.values()].filter((answer) => answer.status === 'accepted');
        await m.query(
          `UPDATE processed_events SET case_id = given.case_id FROM unnest($1::text[], $2::uuid[]) AS given(event_id, case_id)
           WHERE processed_events.event_id = given.event_id`,
          [accepted.map((answer) => answer.id), accepted.map((answer) => answer.caseId)],
        );
        return answers;
      });
      for (const { index, event } of overdue) results[index] = answers.get(event.id)!;
      effects.enqueue.push(...local.enqueue);
      effects.withdraw.push(...local.withdraw);
    } catch (error) {
      this.logger.warn(`bulk of ${chunk.length} events rolled back, applying one by one: ${(error as Error).message}`);
      await this.applyEach(chunk, actor, results, effects);
    }
  }

  private async applyEach(chunk: { index: number; event: DunningEvent }[], actor: string, results: EventResult[], effects: QueueEffects): Promise<void> {
    for (const { index, event } of chunk) results[index] = await this.applyOne(event, actor, effects);
  }

  private async applyOne(event: DunningEvent, actor: string, effects: QueueEffects): Promise<EventResult> {
    const local: QueueEffects = { enqueue: [], withdraw: [] };
    try {
      const result = await this.dataSource.transaction(async (m): Promise<EventResult> => {
        await m.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [laneOf(event)]);
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
      case 'acknowledgment.signed':
        return this.lifecycle.acknowledge(m, event.id, event.data, actor);
      case 'debtor.updated':
        return this.lifecycle.updateDebtor(m, event.id, event.data, actor, effects);
      case 'promise.made':
        return this.lifecycle.recordPromise(m, event.id, event.data, actor, effects);
    }
  }
}
