import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { QueueName } from './job-names';
import { JobQueue, QUEUES } from './job-queue.service';
import { openQueue } from './queue-backend';
import { JobWorkers } from './job-workers.service';

/** The queues and the one way to add jobs: every role. */
@Module({
  providers: [
    {
      provide: QUEUES,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new Map(Object.values(QueueName).map((name) => [name, openQueue(name, config)])),
    },
    JobQueue,
  ],
  exports: [JobQueue],
})
export class JobsModule {}

/** Workers for every queue and the sweeps: worker role only. */
@Module({ imports: [DiscoveryModule], providers: [JobWorkers] })
export class JobWorkersModule {}
