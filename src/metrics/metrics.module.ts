import { Global, Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { StepMetrics } from './step-metrics';

/**
 * `GET /metrics` in every role (a worker process serves it next to /health), and the registry
 * other modules add their series to. Global so that the step worker can inject StepMetrics.
 */
@Global()
@Module({
  imports: [JobsModule],
  providers: [MetricsService, StepMetrics],
  controllers: [MetricsController],
  exports: [MetricsService, StepMetrics],
})
export class MetricsModule {}
