import { Global, Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { Reconciler } from './reconciler.service';
import { StepScheduler } from './step-scheduler.service';

@Global()
@Module({ imports: [JobsModule], providers: [StepScheduler, Reconciler], exports: [StepScheduler, Reconciler, JobsModule] })
export class SchedulingModule {}
