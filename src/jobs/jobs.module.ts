import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { QueueName } from './job-names';
import { producerOptions } from './job-options';
import { JobQueue } from './job-queue.service';
import { JobWorkers } from './job-workers.service';

/** The queues and the one way to add jobs: every role. */
@Module({
  imports: Object.values(QueueName).map((name) =>
    BullModule.registerQueueAsync({ name, inject: [APP_CONFIG], useFactory: (config: AppConfig) => producerOptions(config) }),
  ),
  providers: [JobQueue],
  exports: [JobQueue, BullModule],
})
export class JobsModule {}

/** Workers for every queue and the sweeps: worker role only. */
@Module({ imports: [DiscoveryModule], providers: [JobWorkers] })
export class JobWorkersModule {}
