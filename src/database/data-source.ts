import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config.schema';
import { GuardedClient } from './guarded-client';
import { InitialSchema1763900000000 } from './migrations/1763900000000-initial-schema';
import { LettersAndLegalClocks1764000000000 } from './migrations/1764000000000-letters-and-legal-clocks';
import { ContactGateAndLifecycle1764100000000 } from './migrations/1764100000000-contact-gate-and-lifecycle';
import { Escalations1764200000000 } from './migrations/1764200000000-escalations';
import { Batches1764300000000 } from './migrations/1764300000000-batches';
import { AuditExport1764400000000 } from './migrations/1764400000000-audit-export';
import { SharedSqlFunctions1764500000000 } from './migrations/1764500000000-shared-sql-functions';
import { TrueLetters1764600000000 } from './migrations/1764600000000-true-letters';
import { SendsInDoubt1764700000000 } from './migrations/1764700000000-sends-in-doubt';
import { RateLimitCounters1764800000000 } from './migrations/1764800000000-rate-limit-counters';
import { NextStepByCase1764900000000 } from './migrations/1764900000000-next-step-by-case';
import { QualityInspection1765000000000 } from './migrations/1765000000000-quality-inspection';
import { QaScoring1765050000000 } from './migrations/1765050000000-qa-scoring';
import { ReportIndexes1765100000000 } from './migrations/1765100000000-report-indexes';
import { Experiments1765200000000 } from './migrations/1765200000000-experiments';
import { Webhooks1766000000000 } from './migrations/1766000000000-webhooks';
import { DeliveryStatus1766100000000 } from './migrations/1766100000000-delivery-status';
import { ExperimentHorizon1766300000000 } from './migrations/1766300000000-experiment-horizon';
import { SelfServiceRevocations1766400000000 } from './migrations/1766400000000-self-service-revocations';
import { DebtorDeclinedChannels1766500000000 } from './migrations/1766500000000-debtor-declined-channels';
import { PartitionedEvidence1766600000000 } from './migrations/1766600000000-partitioned-evidence';
import { EvidenceRetention1766610000000 } from './migrations/1766610000000-evidence-retention';

export const migrations = [
  InitialSchema1763900000000,
  LettersAndLegalClocks1764000000000,
  ContactGateAndLifecycle1764100000000,
  Escalations1764200000000,
  Batches1764300000000,
  AuditExport1764400000000,
  SharedSqlFunctions1764500000000,
  TrueLetters1764600000000,
  SendsInDoubt1764700000000,
  RateLimitCounters1764800000000,
  NextStepByCase1764900000000,
  QualityInspection1765000000000,
  QaScoring1765050000000,
  ReportIndexes1765100000000,
  Experiments1765200000000,
  Webhooks1766000000000,
  DeliveryStatus1766100000000,
  ExperimentHorizon1766300000000,
  SelfServiceRevocations1766400000000,
  DebtorDeclinedChannels1766500000000,
  PartitionedEvidence1766600000000,
  EvidenceRetention1766610000000,
];

export function dataSourceOptions(config: Pick<AppConfig, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>) {
  return {
    type: 'postgres' as const,
    url: config.DATABASE_URL,
    entities: [],
    migrations,
    migrationsTransactionMode: 'all' as const,
    synchronize: false,
    // Every client of the pool gets an error listener at birth (guarded-client.ts). No JIT: the
    // statements are short, and a gathered one (database/gather.ts) can be estimated costly enough
    // to spend more compiling (10 ms and more) than running.
    extra: { max: config.DATABASE_POOL_SIZE, connectionTimeoutMillis: 10_000, Client: GuardedClient, options: '-c jit=off' },
  };
}

/**
 * The replica's pool (DATABASE_READ_URL), for the reads that may lag the primary: never
 * migrated, smaller, named so that the standby's pg_stat_activity shows whose it is.
 */
export function readDataSourceOptions(config: Pick<AppConfig, 'DATABASE_READ_URL' | 'DATABASE_READ_POOL_SIZE'> & { DATABASE_READ_URL: string }) {
  const primary = dataSourceOptions({ DATABASE_URL: config.DATABASE_READ_URL, DATABASE_POOL_SIZE: config.DATABASE_READ_POOL_SIZE });
  return { ...primary, migrations: [], extra: { ...primary.extra, application_name: 'dunning reads' } };
}

export function createDataSource(config: Pick<AppConfig, 'DATABASE_URL' | 'DATABASE_POOL_SIZE'>): DataSource {
  return new DataSource(dataSourceOptions(config));
}

/** A small pool of its own for a library that takes a pg Pool (the rate limiter's store), its clients guarded like TypeORM's. */
export function sidePool(config: Pick<AppConfig, 'DATABASE_URL'>, name: string, max: number): Pool {
  const pool = new Pool({ connectionString: config.DATABASE_URL, max, connectionTimeoutMillis: 2000, application_name: name, Client: GuardedClient });
  // An idle client's error reaches the pool too; GuardedClient has counted and logged it.
  pool.on('error', () => undefined);
  return pool;
}
