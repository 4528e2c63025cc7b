import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { Clock } from '../common/clock';
import { CURSOR, decodeCursor, pageOf } from '../common/cursor';
import { DomainError, NotFound } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Transactions } from '../database/transactions';
import { toMinorUnits } from '../domain/money';
import { OnSweep } from '../jobs/job-handlers';
import { JobName, SweepName } from '../jobs/job-names';
import { JobQueue } from '../jobs/job-queue.service';
import { MetricsService } from '../metrics/metrics.service';
import type { BatchRequest } from './batch.schemas';
import { BatchRepository, type BatchView } from './batch.repository';

export type { BatchView } from './batch.repository';

/** Drivers per batch: each takes chunks of pending items (SKIP LOCKED), so workers share a batch. */
const DRIVERS = 2;

/**
 * Finance batches: a request (idempotent by its key) selects its cases once, as items; workers
 * then work the items in chunks. The API side lives here: create, read, list items, cancel, and
 * the sweep that restarts a batch whose workers died.
 */
@Injectable()
export class Batches implements OnModuleInit {
  private readonly logger = new Logger(Batches.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
    private readonly jobs: JobQueue,
    private readonly batches: BatchRepository,
    private readonly metrics: MetricsService,
  ) {}

  /** The batches' progress in /metrics: items of the batches still at work, by status. */
  onModuleInit(): void {
    this.metrics.scrapeGauge('dunning_batch_items', 'Items of queued and running batches, by item status.', ['batch_status', 'item_status'], async () =>
      (await this.batches.progress()).map((row) => ({ labels: { batch_status: row.batch_status, item_status: row.item_status }, value: row.n })),
    );
  }

  /** 202 material: a new batch, or the one this key already made with the same body; 409 if the body differs. */
  async create(key: string, request: BatchRequest, actor: string): Promise<{ batch: BatchView; created: boolean }> {
    const requestHash = createHash('sha256').update(canonicalize(request)!).digest('hex');
    const id = randomUUID();
    const { minAmount, currency } = request.filter;
    const minAmountMinor = minAmount !== undefined && currency ? toMinorUnits(minAmount, currency) : null;
    const created = await this.transactions.run((tx) =>
      this.batches.create(tx, { id, key, requestHash, request, minAmountMinor, by: actor, at: this.clock.now() }),
    );
    const existing = created ? { id, requestHash } : (await this.batches.byKey(key))!;
    if (existing.requestHash !== requestHash) {
      throw new DomainError('conflict', `Idempotency-Key ${key} was used for another batch request (batch ${existing.id}); use a new key for a new request`);
    }
    if (created) await this.startDrivers(id);
    return { batch: await this.get(existing.id), created };
  }

  async get(id: string): Promise<BatchView> {
    const batch = await this.batches.get(id);
    if (!batch) throw new NotFound('batch', id);
    return batch;
  }

  async items(id: string, filter: { status?: string; cursor?: string; limit: number }) {
    await this.get(id);
    const afterSeq = filter.cursor ? decodeCursor(filter.cursor, CURSOR.position)[0] : undefined;
    const rows = await this.batches.items(id, { status: filter.status, afterSeq, limit: filter.limit + 1 });
    const { page, nextCursor } = pageOf(rows, filter.limit, (last) => [last.seq]);
    return { items: page, nextCursor };
  }

  /** Stops a batch: workers finish the chunk in hand; the items not yet taken become `cancelled`. */
  async cancel(id: string, actor: string): Promise<BatchView> {
    await this.transactions.run(async (tx) => {
      const status = await this.batches.lockStatus(tx, id);
      if (!status) throw new NotFound('batch', id);
      if (status === 'cancelled') return;
      if (status === 'completed' || status === 'failed') throw new DomainError('conflict', `batch ${id} is ${status}; there is nothing left to cancel`);
      await this.batches.cancel(tx, id, actor, this.clock.now());
    });
    return this.get(id);
  }

  /**
   * Restarts batches whose drivers are gone (a worker killed mid-batch): pending items and no
   * progress for BATCH_STALL_AFTER. Extra drivers are harmless: items are taken with SKIP LOCKED.
   */
  @OnSweep(SweepName.StalledBatches)
  async resumeStalled(): Promise<number> {
    const now = this.clock.now();
    const stalled = await this.batches.stalled(now, new Date(now.getTime() - this.config.BATCH_STALL_AFTER));
    for (const id of stalled) await this.startDrivers(id, `resume-${now.getTime()}`);
    if (stalled.length) this.logger.warn(`restarted ${stalled.length} stalled batch(es)`);
    return stalled.length;
  }

  private async startDrivers(batchId: string, generation = 'start'): Promise<void> {
    await this.jobs.add(
      JobName.RunBatch,
      Array.from({ length: DRIVERS }, (_, driver) => ({ id: `${batchId}.${generation}.${driver}`, data: { batchId } })),
      'the stalled-batch sweep',
    );
  }
}
