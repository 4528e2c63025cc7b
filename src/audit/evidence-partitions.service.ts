import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AdvisoryLock, Locks } from '../database/locks.repository';
import { Transactions } from '../database/transactions';
import { EVIDENCE_TABLES, partitionsAhead } from '../domain/evidence-partitions';
import { OnSweep } from '../jobs/job-handlers';
import { SweepName } from '../jobs/job-names';
import { PartitionRepository } from './partition.repository';

/** A lock the sweep waits for at most, so that it never queues writers behind it. */
const SWEEP_LOCK_WAIT_MS = 2000;

/** Keeps the month partitions of touches and dispatches in place ahead of time. */
@Injectable()
export class EvidencePartitions {
  constructor(
    private readonly partitions: PartitionRepository,
    private readonly transactions: Transactions,
    private readonly locks: Locks,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Creates this month's partitions and PARTITIONS_AHEAD months' after it where missing; one process at a time. */
  @OnSweep(SweepName.Partitions)
  async createAhead(): Promise<number> {
    return this.transactions.run(async (tx) => {
      if (!(await this.locks.tryTake(tx, AdvisoryLock.Partitions))) return 0;
      await this.partitions.limitLockWait(tx, SWEEP_LOCK_WAIT_MS);
      let created = 0;
      for (const table of EVIDENCE_TABLES) {
        for (const partition of partitionsAhead(table, this.clock.now(), this.config.PARTITIONS_AHEAD)) {
          if (await this.partitions.create(tx, partition)) created++;
        }
      }
      return created;
    });
  }
}
