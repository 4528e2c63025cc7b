import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AdvisoryLock, Locks } from '../database/locks.repository';
import { Transactions, type Tx } from '../database/transactions';
import { nextState } from '../domain/touch-watermark';
import { OnSweep } from '../jobs/job-handlers';
import { JobName, SweepName } from '../jobs/job-names';
import { JobQueue } from '../jobs/job-queue.service';
import { deliveryJobId, WebhookRepository } from './webhook.repository';

const BATCH = 500;

/**
 * Finds the touches to deliver, off the hot path: behind a watermark over touch ids that moves
 * only past transactions that have ended (see nextState), so a touch whose transaction commits
 * late is still seen. Each round makes the deliveries of a batch and moves the watermark in one
 * transaction; their jobs are added after it commits, and every round re-adds the jobs of
 * pending deliveries, so an add lost to a queue outage is made good.
 */
@Injectable()
export class WebhookSweep {
  constructor(
    private readonly transactions: Transactions,
    private readonly locks: Locks,
    private readonly webhooks: WebhookRepository,
    private readonly jobs: JobQueue,
    private readonly clock: Clock,
  ) {}

  /** Answers how many deliveries it made. */
  @OnSweep(SweepName.Webhooks)
  async sweep(): Promise<number> {
    let made = 0;
    // Where the last round's batch ended: touches behind the watermark are read again until it moves, the batch must not be.
    let after: string | undefined;
    for (;;) {
      const round = await this.transactions.run((tx) => this.round(tx, after));
      made += round.created.length;
      await this.enqueue(round.created);
      if (!round.more) break;
      after = round.lastId;
    }
    await this.enqueue(await this.webhooks.pendingDeliveries(1000));
    return made;
  }

  /** Adds each delivery's job for its current run; adding one that exists is a no-op. */
  enqueue(deliveries: readonly { id: string; replays: number }[]): Promise<number> {
    return this.jobs.add(
      JobName.DeliverWebhook,
      deliveries.map((delivery) => ({ id: deliveryJobId(delivery), data: { deliveryId: delivery.id } })),
      'the webhook sweep',
    );
  }

  private async round(tx: Tx, after: string | undefined): Promise<{ created: { id: string; replays: number }[]; more: boolean; lastId?: string }> {
    if (!(await this.locks.tryTake(tx, AdvisoryLock.WebhookSweep))) return { created: [], more: false };
    const state = await this.webhooks.sweepState(tx);
    const { ids, settled, sequence, xid } = await this.webhooks.newTouches(tx, state, after, BATCH);
    const created = await this.webhooks.createDeliveries(tx, ids, this.clock.now());
    const full = ids.length === BATCH;
    await this.webhooks.saveSweepState(tx, nextState(state, { settled, full, lastId: ids.at(-1), sequence, xid }));
    return { created, more: full, lastId: ids.at(-1) };
  }
}
