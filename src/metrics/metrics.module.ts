import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { StepMetrics } from './step-metrics';
import { WebhookMetrics } from './webhook-metrics';

/** `GET /metrics` in every role (a worker process serves it next to /health), and the registry other modules add their series to. */
@Module({
  imports: [JobsModule],
  providers: [MetricsService, StepMetrics, WebhookMetrics],
  controllers: [MetricsController],
  exports: [MetricsService, StepMetrics, WebhookMetrics],
})
export class MetricsModule {}
