import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { BatchProcessor } from './batch.processor';
import { BatchRunner } from './batch-runner.service';
import { BATCHES_QUEUE, Batches } from './batches.service';
import { BatchesController } from './batches.controller';

/** Creating batches and restarting stalled ones: the API and the worker's maintenance both need it. */
@Global()
@Module({ imports: [BullModule.registerQueue({ name: BATCHES_QUEUE })], providers: [Batches], exports: [Batches, BullModule] })
export class BatchesModule {}

/** The batch routes: API role only. */
@Module({ controllers: [BatchesController] })
export class BatchesApiModule {}

/** Working batches: worker role only. */
@Module({ providers: [BatchRunner, BatchProcessor] })
export class BatchesWorkerModule {}
