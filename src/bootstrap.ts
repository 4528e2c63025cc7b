import { type DynamicModule, type INestApplication } from '@nestjs/common';
import { SELF_SERVICE_PREFIX } from './self-service/self-service.controller';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { raw } from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { AppConfig } from './config/config.schema';
import { checkReplica, databaseTimeZones, migrate } from './database/preflight';
import { useDatabaseZones } from './domain/time-zones';
import { mountDocs } from './docs/openapi';
import { ApiKeyRing } from './common/auth/api-keys';
import { quietFramework } from './common/logging';
import { keyBeforeLargeBody, securityHeaders } from './common/security-headers';
import { prepareQueues } from './jobs/queue-backend';
import { DSN_ROUTE, PROVIDER_BODY_LIMIT, SIGNED_PROVIDER_ROUTES } from './delivery/delivery-routes';

/** Builds the Nest app from its root module; tests build it through a testing module to override providers. */
export type AppFactory = (root: DynamicModule, options: { bufferLogs: boolean }) => Promise<NestExpressApplication>;

const nestFactory: AppFactory = (root, options) => NestFactory.create<NestExpressApplication>(root, options);

/** Checks PostgreSQL (and its replica) and the queues' store, migrates both, and builds the app (not yet listening). */
export async function createApp(config: AppConfig, factory: AppFactory = nestFactory): Promise<INestApplication> {
  await migrate(config);
  await checkReplica(config);
  useDatabaseZones(await databaseTimeZones(config.DATABASE_URL));
  await prepareQueues(config);
  const app = await factory(AppModule.register(config), { bufferLogs: true });
  app.useLogger(quietFramework(app.get(Logger)));
  app.disable('x-powered-by');
  app.use(securityHeaders());
  // Provider routes check a signature over the exact bytes: their bodies are read raw, under a
  // bound of their own, whoever sends them (they carry no key).
  app.use(SIGNED_PROVIDER_ROUTES, raw({ type: () => true, limit: PROVIDER_BODY_LIMIT }));
  // A large body is parsed only for a caller with a key (the guard checks its role later).
  app.use(keyBeforeLargeBody(app.get(ApiKeyRing), { signedRoutes: SIGNED_PROVIDER_ROUTES, publicPrefixes: [SELF_SERVICE_PREFIX] }));
  app.use(DSN_ROUTE, raw({ type: 'message/rfc822', limit: '4mb' }));
  // 1000 events of a few hundred bytes each fit well below this.
  app.useBodyParser('json', { limit: '4mb' });
  // The debtor's self-service forms post as HTML forms do.
  app.useBodyParser('urlencoded', { limit: '16kb', extended: false });
  // OpenAPI at /docs, where the API is served.
  if (config.APP_ROLE !== 'worker') mountDocs(app);
  return app;
}
