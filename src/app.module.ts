import { DynamicModule, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { CasesModule } from './cases/cases.module';
import { ChannelsModule } from './channels/channels.module';
import { AppConfig } from './config/app-config';
import { CoreModule } from './core.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { PoliciesModule } from './policies/policies.module';
import { SchedulingModule } from './scheduling/scheduling.module';
import { StepsModule } from './steps/steps.module';

/** APP_ROLE picks the parts: `api` serves HTTP, `worker` runs steps and maintenance, `all` both. */
@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    const worker = config.APP_ROLE !== 'api';
    return {
      module: AppModule,
      imports: [
        CoreModule.register(config),
        AuditModule,
        ChannelsModule,
        PoliciesModule,
        SchedulingModule.register({ withTimers: worker }),
        CasesModule,
        EventsModule,
        HealthModule,
        ...(worker ? [StepsModule] : []),
      ],
    };
  }
}
