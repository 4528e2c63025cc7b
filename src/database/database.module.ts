import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/config.schema';
import { dataSourceOptions } from './data-source';
import { Locks } from './locks.repository';
import { Transactions } from './transactions';

/** The PostgreSQL connection pool (migrations run before the app boots), transactions and advisory locks. */
@Module({})
export class DatabaseModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(config), migrationsRun: false })],
      providers: [Transactions, Locks],
      exports: [Transactions, Locks],
    };
  }
}
