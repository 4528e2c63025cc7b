import { Inject, Injectable, Logger } from '@nestjs/common';
import { CaseRepository } from '../cases/case.repository';
import { CaseOpening } from '../cases/case-opening.service';
import { Clock } from '../common/clock';
import { mapWithConcurrency } from '../common/concurrency';
import { isDependencyDown, isTransientConflict } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Locks } from '../database/locks.repository';
import { Transactions, type Tx } from '../database/transactions';
import type { DunningEvent, EventType } from '../domain/events';
import { noQueueEffects, type QueueEffects } from '../domain/step';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import { EventRejected, type EventHandler } from './event-handler';
import { EventRepository } from './event.repository';
import { validateEvent } from './event-validation';
import { AcknowledgmentSignedHandler } from './handlers/acknowledgment-signed.handler';
import { DebtorUpdatedHandler } from './handlers/debtor-updated.handler';
import { DisputeOpenedHandler } from './handlers/dispute-opened.handler';
import { DisputeResolvedHandler } from './handlers/dispute-resolved.handler';
import { InvoiceCancelledHandler } from './handlers/invoice-cancelled.handler';
import { InvoiceOverdueHandler } from './handlers/invoice-overdue.handler';
import { PaymentReceivedHandler } from './handlers/payment-received.handler';
import { PromiseMadeHandler } from './handlers/promise-made.handler';

export interface EventResult {
  id: string | null;
  status: 'accepted' | 'duplicate' | 'rejected';
  caseId?: string;
  error?: string;
  /** `internal`: the service failed on this event (logged); sending it again may succeed. */
  code?: 'internal';
}

type Overdue = Extract<DunningEvent, { type: 'invoice.overdue' }>;
interface Indexed<E extends DunningEvent = DunningEvent> {
  index: number;
  event: E;
}

/** Events per bulk transaction, and bulk transactions in flight per request. */
const BULK_CHUNK = 250;
const BULK_PARALLELISM = 2;
/** How many times one event's transaction runs when PostgreSQL keeps aborting it for a conflict. */
const CONFLICT_ATTEMPTS = 3;

const invoiceOf = (event: Exclude<DunningEvent, { type: 'debtor.updated' }>): string =>
  event.type === 'invoice.overdue' ? event.data.invoice.externalId : event.data.invoiceExternalId;
/** Events of one lane apply in request order, one at a time: per invoice, or per debtor for debtor updates. */
const laneOf = (event: DunningEvent): string => (event.type === 'debtor.updated' ? `debtor:${event.data.debtor.externalId}` : `invoice:${invoiceOf(event)}`);

/** Ingests events: validate each, then apply them (in bulk where they allow), idempotent by event id. */
@Injectable()
export class EventsService {
  private readonly parallelism: number;
  private readonly logger = new Logger(EventsService.name);
  private readonly handlers: { [T in EventType]: EventHandler<T> };

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly transactions: Transactions,
    private readonly locks: Locks,
    private readonly events: EventRepository,
    private readonly cases: CaseRepository,
    private readonly opening: CaseOpening,
    private readonly scheduler: StepScheduler,
    private readonly clock: Clock,
    private readonly overdue: InvoiceOverdueHandler,
    payment: PaymentReceivedHandler,
    cancelled: InvoiceCancelledHandler,
    disputeOpened: DisputeOpenedHandler,
    disputeResolved: DisputeResolvedHandler,
    acknowledgment: AcknowledgmentSignedHandler,
    debtorUpdated: DebtorUpdatedHandler,
    promise: PromiseMadeHandler,
  ) {
    this.parallelism = Math.max(1, Math.floor(config.DATABASE_POOL_SIZE / 2));
    this.handlers = {
      'invoice.overdue': overdue,
      'payment.received': payment,
      'invoice.cancelled': cancelled,
      'dispute.opened': disputeOpened,
      'dispute.resolved': disputeResolved,
      'acknowledgment.signed': acknowledgment,
      'debtor.updated': debtorUpdated,
      'promise.made': promise,
    };
  }

  async ingest(raw: unknown[], actor: string): Promise<EventResult[]> {
    const now = this.clock.now();
    const results = new Array<EventResult>(raw.length);
    const valid: Indexed[] = [];
    raw.forEach((entry, index) => {
      const checked = validateEvent(entry, now);
      if (checked.ok) valid.push({ index, event: checked.event });
      else results[index] = { id: checked.id, status: 'rejected', error: checked.error };
    });
    const perLane = new Map<string, number>();
    for (const { event } of valid) perLane.set(laneOf(event), (perLane.get(laneOf(event)) ?? 0) + 1);
    // Overdue events for invoices named once in the request open their cases in bulk; the rest run
    // one transaction each, in request order per lane.
    const bulk = valid.filter((entry): entry is Indexed<Overdue> => entry.event.type === 'invoice.overdue' && perLane.get(laneOf(entry.event)) === 1);
    const inBulk = new Set<Indexed>(bulk);
    const lanes = new Map<string, Indexed[]>();
    for (const entry of valid) {
      if (inBulk.has(entry)) continue;
      const lane = lanes.get(laneOf(entry.event)) ?? [];
      lane.push(entry);
      lanes.set(laneOf(entry.event), lane);
    }
    const chunks = Array.from({ length: Math.ceil(bulk.length / BULK_CHUNK) }, (_, i) => bulk.slice(i * BULK_CHUNK, (i + 1) * BULK_CHUNK));
    const effects = noQueueEffects();
    try {
      await mapWithConcurrency(chunks, BULK_PARALLELISM, (chunk) => this.applyBulk(chunk, actor, results, effects));
      await mapWithConcurrency([...lanes.values()], this.parallelism, (lane) => this.applyEach(lane, actor, results, effects));
    } finally {
      // Events committed before a failure still get their jobs now rather than at the next reconcile.
      await this.scheduler.apply(effects);
    }
    return results;
  }

  /**
   * Opens the cases of many overdue events in one transaction. Duplicates and invoices that already
   * have an open case are answered as one by one; any conflict with a concurrent writer (a deadlock,
   * a unique violation) rolls the chunk back and retries it one event at a time.
   */
  private async applyBulk(chunk: Indexed<Overdue>[], actor: string, results: EventResult[], effects: QueueEffects): Promise<void> {
    const items = chunk.map(({ event }) => ({ eventId: event.id, data: event.data }));
    if (!this.overdue.knowsPolicies(items)) return this.applyEach(chunk, actor, results, effects);
    const local = noQueueEffects();
    try {
      const answers = await this.transactions.run(async (tx) => {
        await this.locks.lanes(
          tx,
          chunk.map(({ event }) => laneOf(event)),
        );
        const fresh = await this.events.claimMany(
          tx,
          chunk.map(({ event }) => event.id),
          'invoice.overdue',
          this.clock.now(),
        );
        const seen = await this.events.casesOf(
          tx,
          chunk.filter(({ event }) => !fresh.has(event.id)).map(({ event }) => event.id),
        );
        const hasOpenCase = await this.cases.invoicesWithOpenCase(
          tx,
          chunk.map(({ event }) => invoiceOf(event)),
        );
        const answers = new Map<string, EventResult>([...seen].map(([id, caseId]) => [id, { id, status: 'duplicate', caseId: caseId ?? undefined }]));
        const toOpen = chunk.filter(({ event }) => fresh.has(event.id) && !hasOpenCase.has(invoiceOf(event)));
        const caseIds = await this.opening.open(
          tx,
          toOpen.map(({ event }) => ({ eventId: event.id, data: event.data })),
          actor,
          local,
        );
        toOpen.forEach(({ event }, i) => answers.set(event.id, { id: event.id, status: 'accepted', caseId: caseIds[i] }));
        for (const { event } of chunk.filter(({ event }) => fresh.has(event.id) && hasOpenCase.has(invoiceOf(event)))) {
          const { caseId } = await this.overdue.apply(tx, event.id, event.data, actor, local);
          answers.set(event.id, { id: event.id, status: 'accepted', caseId });
        }
        await this.events.setCases(
          tx,
          [...answers.values()].filter((answer) => answer.status === 'accepted').map((answer) => ({ eventId: answer.id!, caseId: answer.caseId })),
        );
        return answers;
      });
      for (const { index, event } of chunk) results[index] = answers.get(event.id)!;
      effects.enqueue.push(...local.enqueue);
      effects.withdraw.push(...local.withdraw);
    } catch (error) {
      this.logger.warn(`bulk of ${chunk.length} events rolled back, applying one by one: ${(error as Error).message}`);
      await this.applyEach(chunk, actor, results, effects);
    }
  }

  private async applyEach(chunk: Indexed[], actor: string, results: EventResult[], effects: QueueEffects): Promise<void> {
    for (const { index, event } of chunk) results[index] = await this.applyOne(event, actor, effects);
  }

  private async applyOne(event: DunningEvent, actor: string, effects: QueueEffects, attempt = 1): Promise<EventResult> {
    const local = noQueueEffects();
    try {
      const result = await this.transactions.run(async (tx): Promise<EventResult> => {
        await this.locks.lanes(tx, [laneOf(event)]);
        if (!(await this.events.claim(tx, event.id, event.type, this.clock.now()))) {
          const caseId = (await this.events.casesOf(tx, [event.id])).get(event.id);
          return { id: event.id, status: 'duplicate', caseId: caseId ?? undefined };
        }
        const applied = await this.apply(tx, event, actor, local);
        await this.events.setCases(tx, [{ eventId: event.id, caseId: applied.caseId }]);
        return { id: event.id, status: applied.duplicate ? 'duplicate' : 'accepted', caseId: applied.caseId };
      });
      effects.enqueue.push(...local.enqueue);
      effects.withdraw.push(...local.withdraw);
      return result;
    } catch (error) {
      if (error instanceof EventRejected) return { id: event.id, status: 'rejected', error: error.message };
      // An outage fails the whole request (503, retry it); anything else fails this event alone,
      // rolled back, while the others keep their results.
      if (isDependencyDown(error)) throw error;
      // PostgreSQL chose this transaction to end a deadlock (or a serialization conflict): it changed nothing, so run it again.
      if (isTransientConflict(error) && attempt < CONFLICT_ATTEMPTS) return this.applyOne(event, actor, effects, attempt + 1);
      this.logger.error(`event ${event.id} (${event.type}) failed and was rolled back: ${(error as Error).message}`, (error as Error).stack);
      return {
        id: event.id,
        status: 'rejected',
        code: 'internal',
        error: 'internal: the service could not apply this event and changed nothing; it is logged, and sending it again may succeed',
      };
    }
  }

  private apply(tx: Tx, event: DunningEvent, actor: string, effects: QueueEffects) {
    // The event's type picks its handler, which takes that type's data (TypeScript cannot see the pairing).
    const handler = this.handlers[event.type] as EventHandler<typeof event.type>;
    return handler.apply(tx, event.id, event.data, actor, effects);
  }
}
