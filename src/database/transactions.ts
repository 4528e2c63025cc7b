import { AsyncResource } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

declare const opaque: unique symbol;

/**
 * An open transaction. Services start one and hand it to repositories; it has no members, so
 * nothing but a repository (through `managerOf`) can run a statement in it.
 */
export type Tx = { readonly [opaque]: 'Tx' };

/** For repositories only: the transaction's entity manager. */
export const managerOf = (tx: Tx): EntityManager => tx as unknown as EntityManager;

const asTx = (manager: EntityManager): Tx => manager as unknown as Tx;

/**
 * Shared transactions at once: while one runs, new works gather into the next, so the busier the
 * workers, the fewer round trips per step (one at a time measured best: docs/benchmark.md).
 */
const TOGETHER_AT_ONCE = 1;

/** A work gathered into a shared transaction: `shared` is false when it runs in a transaction of its own. */
export type GatheredWork<T> = (tx: Tx, shared: boolean) => Promise<T>;

/**
 * Thrown by a work that must not share its transaction (its writes need locks the others would
 * hold for it): the shared attempt is given up and every work runs alone.
 */
export class RunAlone extends Error {
  constructor() {
    super('this work runs in a transaction of its own');
  }
}

interface Gathered {
  work: GatheredWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Runs work in one PostgreSQL transaction: committed when it resolves, rolled back when it throws. */
@Injectable()
export class Transactions {
  private readonly gathering: Gathered[] = [];
  private starting = false;
  /** Shared transactions running: while TOGETHER_AT_ONCE run, works wait and gather into the next one. */
  private together = 0;

  constructor(private readonly dataSource: DataSource) {}

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => work(asTx(manager)));
  }

  /** Runs reads that must agree with each other (a verification) in one read-only snapshot. */
  snapshot<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      await manager.query('SET TRANSACTION READ ONLY');
      return work(asTx(manager));
    });
  }

  /**
   * Group commit: runs work in one transaction with the works handed in during the same turn of
   * the event loop, so they share its BEGIN and COMMIT and their repositories can gather their
   * statements (see Gather). Committed when every work resolves. When any of them throws, or the
   * commit fails, each work runs again in a transaction of its own: a failure stays its own
   * work's, and the others still commit. So a work must leave nothing but its writes in `tx`
   * behind before it resolves. A work that must not share (RunAlone) is told by `shared`.
   */
  runGathered<T>(work: GatheredWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Each work runs in its caller's async context (log bindings), not the first caller's.
      this.gathering.push({ work: AsyncResource.bind(work), resolve: resolve as (value: unknown) => void, reject });
      this.startGathered();
    });
  }

  /** Starts the works gathered so far after this turn, unless enough shared transactions run: then when one ends. */
  private startGathered(): void {
    if (this.starting || this.gathering.length === 0 || this.together >= TOGETHER_AT_ONCE) return;
    this.starting = true;
    setImmediate(() => {
      this.starting = false;
      const works = this.gathering.splice(0);
      this.together++;
      void this.runTogether(works).finally(() => {
        this.together--;
        this.startGathered();
      });
    });
  }

  private async runTogether(works: Gathered[]): Promise<void> {
    if (works.length > 1) {
      const values = await this.run(async (tx) => {
        const settled = await Promise.allSettled(works.map(({ work }) => work(tx, true)));
        const failed = settled.find((outcome) => outcome.status === 'rejected');
        if (failed) throw failed.reason;
        return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value);
      }).catch(() => undefined);
      if (values) return works.forEach(({ resolve }, i) => resolve(values[i]));
    }
    await Promise.all(works.map(({ work, resolve, reject }) => this.run((tx) => work(tx, false)).then(resolve, reject)));
  }

  /** Runs work in a savepoint of `tx`: when it throws, its writes are undone and the error rethrown; the transaction goes on. */
  async savepoint<T>(tx: Tx, work: () => Promise<T>): Promise<T> {
    const manager = managerOf(tx);
    await manager.query('SAVEPOINT work');
    try {
      const result = await work();
      await manager.query('RELEASE SAVEPOINT work');
      return result;
    } catch (error) {
      await manager.query('ROLLBACK TO SAVEPOINT work');
      throw error;
    }
  }
}
