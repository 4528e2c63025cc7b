import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CasesModule } from '../cases/cases.module';
import { JobsModule } from '../jobs/jobs.module';
import { LettersModule } from '../letters/letters.module';
import { MetricsModule } from '../metrics/metrics.module';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { BatchRepository } from './batch.repository';
import { BatchRunner } from './batch-runner.service';
import { Batches } from './batches.service';
import { BatchesController } from './batches.controller';

/** Creating batches, their progress gauge, and restarting stalled ones: every role. */
@Module({ imports: [JobsModule, MetricsModule], providers: [BatchRepository, Batches], exports: [BatchRepository, Batches] })
export class BatchesModule {}

/** The batch routes: API role only. */
@Module({ imports: [BatchesModule], controllers: [BatchesController] })
export class BatchesApiModule {}

/** Working batches: worker role only. */
@Module({ imports: [BatchesModule, AuditModule, CasesModule, LettersModule, SchedulingModule], providers: [BatchRunner] })
export class BatchesWorkerModule {}
