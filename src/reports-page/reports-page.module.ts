import { type DynamicModule, type MiddlewareConsumer, Module, type ModuleMetadata, type NestModule, type Type } from '@nestjs/common';
import helmet from 'helmet';
import { ApiKeyRing } from '../common/auth/api-keys';
import { basicAuthPage } from '../common/auth/basic-auth';
import { PAGE_POLICY_DIRECTIVES } from '../common/security-headers';
import type { Role } from '../config/config.schema';
import { limitRequests, RequestLimiter } from '../rate-limit/rate-limit.guard';
import { REPORTS_PAGE_ROUTE, ReportsPageHandler } from './reports-page.handler';
import { ReportsPageSource } from './reports-page-source';

export const REPORTS_PAGE_ROLES: readonly Role[] = ['auditor', 'finance', 'admin'];

/** What gives the page its figures: a provider of ReportsPageSource, with the modules it needs. */
export type ReportsPageBinding = { imports?: ModuleMetadata['imports'] } & ({ useExisting: Type<ReportsPageSource> } | { useValue: ReportsPageSource });

/**
 * The reports page at /reports (HTML for people, beside the queue dashboard; the figures as JSON
 * are the reports API's). A browser cannot send a bearer header to open a page, so the page
 * takes HTTP Basic like the dashboard (basicAuthPage), for auditors, finance and admins.
 *
 * Its content policy is the app's with one change: no inline script at all (the app's allows it
 * for Swagger UI and the queue dashboard). The page embeds its figures as JSON and draws them
 * with its own script file.
 */
@Module({})
export class ReportsPageModule implements NestModule {
  static forSource({ imports, ...source }: ReportsPageBinding): DynamicModule {
    return {
      module: ReportsPageModule,
      imports: imports ?? [],
      providers: [{ provide: ReportsPageSource, ...source }, ReportsPageHandler],
    };
  }

  constructor(
    private readonly keys: ApiKeyRing,
    private readonly limiter: RequestLimiter,
    private readonly page: ReportsPageHandler,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    const policy = helmet.contentSecurityPolicy({ useDefaults: false, directives: { ...PAGE_POLICY_DIRECTIVES, scriptSrc: ["'self'"] } });
    consumer
      .apply(policy, limitRequests(this.limiter), basicAuthPage(this.keys, 'the reports page', REPORTS_PAGE_ROLES), this.page.handle)
      .forRoutes(REPORTS_PAGE_ROUTE);
  }
}
