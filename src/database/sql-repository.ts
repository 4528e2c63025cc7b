import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { managerOf, type Tx } from './transactions';

/** The data source of the reads that may lag the primary: the replica at DATABASE_READ_URL, else the primary. */
export const READS = Symbol('READS');

/**
 * What every repository runs statements with: in the caller's transaction when one is given,
 * else on a pooled connection of its own (one statement, committed at once).
 */
@Injectable()
export abstract class SqlRepository {
  constructor(
    protected readonly dataSource: DataSource,
    @Inject(READS) private readonly replica: DataSource,
  ) {}

  /**
   * The rows of a SELECT on the replica, when there is one: only for reads that may lag the
   * primary by the replica's delay (listings, exports, reports), never for one that must see
   * its caller's own writes or that decides a write.
   */
  protected lagging<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.replica.query(sql, [...params]);
  }

  /** The rows of a SELECT, an INSERT … RETURNING or a statement led by WITH. */
  protected rows<T>(tx: Tx | undefined, sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (tx ? managerOf(tx) : this.dataSource).query(sql, [...params]);
  }

  /** The first row of such a statement, if any. */
  protected async row<T>(tx: Tx | undefined, sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.rows<T>(tx, sql, params))[0];
  }

  /** The rows an UPDATE or DELETE … RETURNING changed (TypeORM answers those with `[rows, count]`). */
  protected async changed<T>(tx: Tx | undefined, sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const [rows] = (await this.rows<unknown>(tx, sql, params)) as unknown as [T[], number];
    return rows;
  }

  /** A statement whose answer is not needed. */
  protected async run(tx: Tx | undefined, sql: string, params: readonly unknown[] = []): Promise<void> {
    await this.rows(tx, sql, params);
  }
}
