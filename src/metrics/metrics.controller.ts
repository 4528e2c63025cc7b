import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { Roles } from '../common/auth/roles.decorator';
import { MetricsService } from './metrics.service';

/**
 * Prometheus scrapes with a bearer key (`authorization: { credentials: … }` in its scrape config):
 * operators watch the service, auditors may read it too. Not public: queue sizes and send rates
 * are business figures.
 */
@ApiTags('Operations')
@Controller('metrics')
@Roles('operator', 'auditor')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'The Prometheus text format: jobs by queue and state, steps run, notices and letters by channel and outcome, step lateness, process metrics. Answers even while Redis does not (a gauge it cannot read is left empty). Served by every APP_ROLE.',
  })
  @ApiOkResponse({ description: 'The metrics', content: { [Registry.PROMETHEUS_CONTENT_TYPE]: { schema: { type: 'string' } } } })
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
