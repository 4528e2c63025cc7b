import { Controller, Get, Header } from '@nestjs/common';
import { Registry } from 'prom-client';
import { Roles } from '../common/auth/roles.decorator';
import { MetricsService } from './metrics.service';

/**
 * Prometheus scrapes with a bearer key (`authorization: { credentials: … }` in its scrape config):
 * operators watch the service, auditors may read it too. Not public: queue sizes and send rates
 * are business figures.
 */
@Controller('metrics')
@Roles('operator', 'auditor')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
