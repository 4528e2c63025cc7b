import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { ApiKeyGuard } from './common/auth/api-key.guard';
import { ApiKeyRing } from './common/auth/api-keys';
import { Clock, SystemClock } from './common/clock';
import { HttpErrorFilter } from './common/http-exception.filter';
import { genReqId, loggedPath, PERSONAL_KEYS, redactionPaths } from './common/logging';
import { RateLimitGuard, RequestLimiter } from './rate-limit/rate-limit.guard';
import { APP_CONFIG, type AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';

/** What every module may inject: config, clock, key ring, database, logger. */
@Global()
@Module({})
export class CoreModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.LOG_LEVEL,
            // Personal data stays out of logs: no bodies, no auth headers, no names, addresses or message texts.
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', ...redactionPaths(PERSONAL_KEYS)], censor: '[redacted]' },
            genReqId,
            serializers: {
              // The path only, with tokens redacted (loggedPath).
              req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, path: loggedPath(req.url) }),
            },
            autoLogging: { ignore: (req) => req.url?.startsWith('/health') ?? false },
            // Prometheus scrapes every few seconds: log only refused or failed scrapes.
            customLogLevel: (req, res) => (req.url === '/metrics' && res.statusCode < 400 ? 'silent' : 'info'),
          },
        }),
        DatabaseModule.register(config),
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: Clock, useClass: SystemClock },
        { provide: ApiKeyRing, useValue: new ApiKeyRing(config.API_KEYS) },
        RequestLimiter,
        // The limit first: guessing keys is limited per address like any other request.
        { provide: APP_GUARD, useClass: RateLimitGuard },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
      exports: [APP_CONFIG, Clock, ApiKeyRing, RequestLimiter, DatabaseModule],
    };
  }
}
