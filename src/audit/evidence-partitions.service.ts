import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AdvisoryLock, Locks } from '../database/locks.repository';
import { EVIDENCE_TABLES, partitionsAhead } from '../domain/evidence-partitions';
import { OnSweep } from '../jobs/job-handlers';
import { SweepName } from '../jobs/job-names';
import { PartitionDdl } from './partition-ddl';
import { PartitionRepository } from './partition.repository';

/** Keeps the month partitions of touches and dispatches in place ahead of time. */
@Injectable()
export class EvidencePartitions {
  constructor(
    private readonly partitions: PartitionRepository,
    private readonly ddl: PartitionDdl,
    private readonly locks: Locks,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Creates this month's partitions and PARTITIONS_AHEAD months' after it where missing, each in a
   * transaction of its own so that it holds its locks briefly; one process at a time.
   */
  @OnSweep(SweepName.Partitions)
  async createAhead(): Promise<number> {
    let created = 0;
    const failures: unknown[] = [];
    for (const table of EVIDENCE_TABLES) {
      const attached = new Set((await this.partitions.attached(undefined, table)).map((partition) => partition.name));
      for (const partition of partitionsAhead(table, this.clock.now(), this.config.PARTITIONS_AHEAD)) {
        if (attached.has(partition.name)) continue;
        try {
          const made = await this.ddl.run(async (tx) => {
            if (!(await this.locks.tryTake(tx, AdvisoryLock.Partitions))) return false;
            await this.partitions.lockForDdl(tx, table);
            return this.partitions.create(tx, partition);
          });
          if (made) created++;
        } catch (error) {
          // The other months still get theirs; the job fails after them, visibly, and runs again at its next turn.
          failures.push(error);
        }
      }
    }
    if (failures.length) throw failures[0];
    return created;
  }
}
