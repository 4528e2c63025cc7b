import { DynamicModule, Module } from '@nestjs/common';
import { AuditApiModule } from './audit/audit.module';
import { BatchesApiModule, BatchesModule, BatchesWorkerModule } from './batches/batches.module';
import { CasesApiModule } from './cases/cases.module';
import { SelfServiceModule } from './self-service/self-service.module';
import { SmsApiModule } from './channels/channels.module';
import { DeliveryModule } from './delivery/delivery.module';
import type { AppConfig } from './config/app-config';
import { CoreModule } from './core.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { EscalationsApiModule, EscalationsWorkerModule } from './escalations/escalations.module';
import { EventsModule } from './events/events.module';
import { ExperimentsApiModule } from './experiments/experiments.module';
import { HealthModule } from './health/health.module';
import { JobWorkersModule } from './jobs/jobs.module';
import { LettersApiModule, LettersModule } from './letters/letters.module';
import { MetricsModule } from './metrics/metrics.module';
import { QualityApiModule, QualityModule, QualityWorkerModule } from './quality/quality.module';
import { ReportsPageModule } from './reports-page/reports-page.module';
import { ReportsApiModule, ReportsModule } from './reports/reports.module';
import { Reports } from './reports/reports.service';
import { StepsModule } from './steps/steps.module';
import { WebhooksApiModule, WebhooksWorkerModule } from './webhooks/webhooks.module';
import { WorkItemsModule } from './work-items/work-items.module';

/**
 * APP_ROLE picks the parts: `api` serves the HTTP API, `worker` runs the jobs and the sweeps,
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
        HealthModule,
        MetricsModule,
        // The legal-clock check and the stalled-batch sweep are theirs; the worker role runs them.
        LettersModule,
        BatchesModule,
        QualityModule,
        ...(api
          ? [
              EventsModule,
              CasesApiModule,
              SelfServiceModule,
              LettersApiModule,
              EscalationsApiModule,
              WorkItemsModule,
              QualityApiModule,
              SmsApiModule,
              DeliveryModule,
              BatchesApiModule,
              AuditApiModule,
              ExperimentsApiModule,
              WebhooksApiModule,
              ReportsApiModule,
              DashboardModule,
              ReportsPageModule.forSource({ imports: [ReportsModule], useExisting: Reports }),
            ]
          : []),
        ...(worker ? [JobWorkersModule, StepsModule, EscalationsWorkerModule, BatchesWorkerModule, QualityWorkerModule, WebhooksWorkerModule] : []),
      ],
    };
  }
}
