import { Controller, Get, Inject, Logger, OnModuleDestroy } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../common/auth/roles.decorator';
import { watchRedisErrors } from '../common/connection-errors';
import { clusterFault, openRedis, type RedisClient } from '../common/redis';
import { Unlimited } from '../rate-limit/rate-limit.guard';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiErrors } from '../docs/decorators';

@ApiTags('Health')
@Controller('health')
@Public()
// Probes must never be turned away by the rate limit.
@Unlimited()
export class HealthController implements OnModuleDestroy {
  private readonly logger = new Logger(HealthController.name);
  /** Its own client that fails fast, unlike the queue's, which waits for Redis to return; none when the queues live in PostgreSQL. */
  private readonly redis?: RedisClient;

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    if (config.QUEUE_BACKEND !== 'redis') return;
    this.redis = openRedis(config.redis, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    watchRedisErrors(this.redis, 'the readiness check', this.logger);
  }

  onModuleDestroy(): void {
    this.redis?.disconnect();
  }

  @Get('live')
  @ApiOperation({ summary: 'Liveness', description: 'The process answers. Served by every APP_ROLE, never rate-limited.' })
  @ApiOkResponse({ description: '`{status: "ok"}`' })
  live() {
    return { status: 'ok' };
  }

  /** Ready when PostgreSQL answers, and Redis when the queues live there. */
  @Get('ready')
  @ApiOperation({
    summary: 'Readiness',
    description: 'Ready when PostgreSQL answers, and Redis when the queues run on it (`redis` in the checks). Served by every APP_ROLE, never rate-limited.',
  })
  @ApiOkResponse({ description: 'Every check is up: `{status: "ok", info, error, details}`' })
  @ApiErrors([503, 'A check is down: `details` holds the state of each check'])
  @HealthCheck()
  ready() {
    const { redis } = this;
    return this.health.check([
      () => this.database.pingCheck('postgres', { timeout: 2000 }),
      ...(redis
        ? [
            async () => {
              const check = this.indicators.check('redis');
              try {
                if (redis.status === 'wait') await redis.connect();
                // A cluster is ready when every slot is served, not when one node answers.
                const fault = await clusterFault(redis);
                if (fault) return check.down({ message: fault });
                await redis.ping();
                return check.up();
              } catch (error) {
                return check.down({ message: (error as Error).message });
              }
            },
          ]
        : []),
    ]);
  }
}
