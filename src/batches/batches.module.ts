import { Global, Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { BatchRunner } from './batch-runner.service';
import { Batches } from './batches.service';
import { BatchesController } from './batches.controller';

/** Creating batches and restarting stalled ones: the API and the worker's maintenance both need it. */
@Global()
@Module({ imports: [JobsModule], providers: [Batches], exports: [Batches] })
export class BatchesModule {}

/** The batch routes: API role only. */
@Module({ controllers: [BatchesController] })
export class BatchesApiModule {}

/** Working batches: worker role only. */
@Module({ providers: [BatchRunner] })
export class BatchesWorkerModule {}
