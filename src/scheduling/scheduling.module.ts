import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { Reconciler } from './reconciler.service';
import { StepRepository } from './step.repository';
import { StepScheduler } from './step-scheduler.service';

/** Planned steps and their jobs: the rows, the one place that enqueues them, and the reconciler. */
@Module({ imports: [JobsModule], providers: [StepRepository, StepScheduler, Reconciler], exports: [StepRepository, StepScheduler] })
export class SchedulingModule {}
