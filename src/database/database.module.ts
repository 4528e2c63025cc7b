import { DynamicModule, Module } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/config.schema';
import { dataSourceOptions, readDataSourceOptions } from './data-source';
import { Locks } from './locks.repository';
import { OutcomeKeeper } from './outcome-keeper';
import { READS } from './sql-repository';
import { Transactions } from './transactions';

/** The connection name of the replica's data source (DATABASE_READ_URL). */
const REPLICA = 'replica';

/**
 * The PostgreSQL connection pool (migrations run before the app boots), the pool that reads what
 * may lag (READS: the replica's, or the primary's while DATABASE_READ_URL is unset),
 * transactions, advisory locks, and the keeper of outcomes across an outage.
 */
@Module({})
export class DatabaseModule {
  static register(config: AppConfig): DynamicModule {
    const readUrl = config.DATABASE_READ_URL;
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({ ...dataSourceOptions(config), migrationsRun: false }),
        ...(readUrl
          ? [TypeOrmModule.forRoot({ ...readDataSourceOptions({ ...config, DATABASE_READ_URL: readUrl }), name: REPLICA, migrationsRun: false })]
          : []),
      ],
      providers: [
        Transactions,
        Locks,
        { provide: OutcomeKeeper, useValue: new OutcomeKeeper(config) },
        { provide: READS, useExisting: getDataSourceToken(readUrl ? REPLICA : undefined) },
      ],
      exports: [Transactions, Locks, OutcomeKeeper, READS],
    };
  }
}
