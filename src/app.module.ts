import { DynamicModule, Module } from '@nestjs/common';
import { AuditApiModule, AuditModule } from './audit/audit.module';
import { BatchesApiModule, BatchesModule, BatchesWorkerModule } from './batches/batches.module';
import { CaseLifecycleModule, CasesModule } from './cases/cases.module';
import { ChannelsModule } from './channels/channels.module';
import { SmsApiModule, SmsModule } from './channels/sms/sms.module';
import { ComplianceModule } from './compliance/compliance.module';
import { AppConfig } from './config/app-config';
import { CoreModule } from './core.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { EscalationsApiModule, EscalationsModule, EscalationsWorkerModule } from './escalations/escalations.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { JobWorkersModule } from './jobs/jobs.module';
import { LettersApiModule, LettersModule } from './letters/letters.module';
import { MetricsModule } from './metrics/metrics.module';
import { PoliciesModule } from './policies/policies.module';
import { SchedulingModule } from './scheduling/scheduling.module';
import { StepsModule } from './steps/steps.module';

/**
 * APP_ROLE picks the parts: `api` serves the HTTP API, `worker` runs steps and maintenance,
 * `all` both. Every role serves /health and /metrics, so a worker can be probed and scraped too.
 */
@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    const worker = config.APP_ROLE !== 'api';
    const api = config.APP_ROLE !== 'worker';
    return {
      module: AppModule,
      imports: [
        CoreModule.register(config),
        AuditModule,
        ChannelsModule,
        SmsModule,
        ComplianceModule,
        PoliciesModule,
        CaseLifecycleModule,
        SchedulingModule,
        HealthModule,
        MetricsModule,
        LettersModule,
        EscalationsModule,
        BatchesModule,
        ...(api ? [CasesModule, EventsModule, AuditApiModule, LettersApiModule, EscalationsApiModule, SmsApiModule, BatchesApiModule, DashboardModule] : []),
        ...(worker ? [JobWorkersModule, StepsModule, EscalationsWorkerModule, BatchesWorkerModule] : []),
      ],
    };
  }
}
