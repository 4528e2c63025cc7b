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

/** Runs work in one PostgreSQL transaction: committed when it resolves, rolled back when it throws. */
@Injectable()
export class Transactions {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => work(asTx(manager)));
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
