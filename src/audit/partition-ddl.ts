import { Injectable } from '@nestjs/common';
import { setTimeout as pause } from 'node:timers/promises';
import { isLockWaitOver } from '../common/errors';
import { type Tx, Transactions } from '../database/transactions';
import { PartitionRepository } from './partition.repository';

/**
 * Partition DDL locks the parent table and the tables its foreign keys reference (cases, debtors,
 * scheduled_steps), as writers do, who hold some of them while they wait for others: a lock cycle
 * with a writer is always possible. The DDL takes all its locks up front (lockForDdl) and each wait
 * stays far below PostgreSQL's deadlock_timeout (1 s by default), so in a cycle the DDL gives up
 * (lock_not_available) before the writer's deadlock check could abort the writer, and tries again a
 * moment later.
 */
export const DDL_LOCK_WAIT_MS = 100;
const DDL_ATTEMPTS = 10;
const FIRST_PAUSE_MS = 50;
const LONGEST_PAUSE_MS = 2000;

/** Runs partition DDL in transactions that yield to the tables' writers. */
@Injectable()
export class PartitionDdl {
  constructor(
    private readonly transactions: Transactions,
    private readonly partitions: PartitionRepository,
  ) {}

  /** Runs work in a transaction of short lock waits; when a wait runs out, all of it again, up to DDL_ATTEMPTS times. */
  async run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactions.run(async (tx) => {
          await this.partitions.limitLockWait(tx, DDL_LOCK_WAIT_MS);
          return work(tx);
        });
      } catch (error) {
        if (!isLockWaitOver(error) || attempt === DDL_ATTEMPTS) throw error;
        // Jittered, so that two processes' DDL do not keep meeting the same writers.
        await pause(Math.min(LONGEST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
      }
    }
  }
}
