import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/config.schema';
import { dataSourceOptions } from './data-source';
import { Locks } from './locks.repository';
import { OutcomeKeeper } from './outcome-keeper';
import { Transactions } from './transactions';

/** The PostgreSQL connection pool (migrations run before the app boots), transactions, advisory locks, and the keeper of outcomes across an outage. */
@Module({})
export class DatabaseModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(config), migrationsRun: false })],
      providers: [Transactions, Locks, { provide: OutcomeKeeper, useValue: new OutcomeKeeper(config) }],
      exports: [Transactions, Locks, OutcomeKeeper],
    };
  }
}
