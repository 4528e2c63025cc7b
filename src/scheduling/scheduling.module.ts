import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { STEPS_QUEUE } from './queues';
import { MaintenanceTimers, Reconciler } from './reconciler.service';
import { StepScheduler } from './step-scheduler.service';

@Global()
@Module({})
export class SchedulingModule {
  /** `withTimers`: this process runs the reconciler and the audit seal (worker role). */
  static register({ withTimers }: { withTimers: boolean }): DynamicModule {
    return {
      module: SchedulingModule,
      imports: [BullModule.registerQueue({ name: STEPS_QUEUE })],
      providers: [StepScheduler, Reconciler, ...(withTimers ? [MaintenanceTimers] : [])],
      exports: [StepScheduler, Reconciler, BullModule],
    };
  }
}
