import { Injectable } from '@nestjs/common';
import { SqlRepository } from './sql-repository';
import type { Tx } from './transactions';

/** Work that one process does at a time across all of them, each under its own advisory lock. */
export enum AdvisoryLock {
  Migrations = 727001,
  PolicyVersions = 727002,
  Seal = 727003,
  Reconcile = 727004,
  LegalClocks = 727005,
  Experiments = 727006,
  QaScoring = 727007,
  WebhookSweep = 727008,
  Partitions = 727009,
}

/**
 * Advisory locks. Every writer takes its locks in this order, so that no two transactions wait
 * on each other:
 *
 * 1. the event lanes (the invoice or the debtor an event is about), in key order (`lanes`);
 * 2. case rows, in id order: a case row is the writer lock of its audit chain;
 * 3. the debtor's contact lock (`contact:<debtor id>`), which the step claim takes right after
 *    the step and case rows (several, in debtor id order), so that the contact gate's caps count
 *    every dispatch before them;
 * 4. the case's own rows: steps, dispatches, letters, holds, promises, work items, placements;
 * 5. the debtor row (its flags), after the debtor's cases.
 *
 * The experiments lock stands outside that order: a case opening takes it shared, and a start,
 * stop or promotion takes it exclusive before anything else and waits for no other lock.
 */
@Injectable()
export class Locks extends SqlRepository {
  /** Takes the lock until the transaction ends, or answers false at once if another holds it. */
  async tryTake(tx: Tx, lock: AdvisoryLock): Promise<boolean> {
    const taken = await this.row<{ locked: boolean }>(tx, 'SELECT pg_try_advisory_xact_lock($1) AS locked', [lock]);
    return taken?.locked === true;
  }

  /** Waits for the lock and holds it until the transaction ends. */
  async take(tx: Tx, lock: AdvisoryLock): Promise<void> {
    await this.run(tx, 'SELECT pg_advisory_xact_lock($1)', [lock]);
  }

  /** Waits for the lock in shared mode (others may share it; an exclusive taker waits) until the transaction ends. */
  async takeShared(tx: Tx, lock: AdvisoryLock): Promise<void> {
    await this.run(tx, 'SELECT pg_advisory_xact_lock_shared($1)', [lock]);
  }

  /** Waits for the lanes' locks, in key order, and holds them until the transaction ends. */
  async lanes(tx: Tx, lanes: readonly string[]): Promise<void> {
    // unnest keeps the array's order, so the locks are taken in it.
    await this.run(tx, 'SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest($1::text[]) AS key', [[...new Set(lanes)].sort()]);
  }
}
