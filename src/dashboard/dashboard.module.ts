import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { BoardHooks } from '@bull-board/api/typings/app';
import { ExpressAdapter } from '@bull-board/express';
import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { RequestHandler } from 'express';
import { ApiKeyRing } from '../common/auth/api-keys';
import { AuditModule } from '../audit/audit.module';
import { EscalationsModule } from '../escalations/escalations.module';
import { JobsModule } from '../jobs/jobs.module';
import { SchedulingModule } from '../scheduling/scheduling.module';
import { limitRequests, RequestLimiter } from '../rate-limit/rate-limit.guard';
import { dashboardAuth } from './basic-auth';
import { BoardAudit, READ_ONLY_HOOKS } from './board-audit';
import { JobAudit } from './job-audit.service';
import { JobsController } from './jobs.controller';
import { OperatorJobs } from './jobs.service';

/** No global prefix is set (see bootstrap.ts), so the board's path is its route. */
export const DASHBOARD_ROUTE = '/admin/queues';

/** One bull-board over the given queues, served under DASHBOARD_ROUTE. */
function board(queues: readonly Queue[], options: { readOnly: boolean; title: string; hooks: BoardHooks }): RequestHandler {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(DASHBOARD_ROUTE);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: options.readOnly })),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: options.title }, handlerHooks: options.hooks },
  });
  // getRouter() is typed `any` by bull-board; it is the Express app the adapter built, which
  // would announce itself in X-Powered-By as the service's own app does not.
  const app = adapter.getRouter() as RequestHandler & { disable(setting: string): unknown };
  app.disable('x-powered-by');
  return app;
}

/**
 * The queue dashboard at /admin/queues and the operator API at /v1/jobs (API role only).
 *
 * Two boards over the same queues: the operators' board, whose actions are audited by BoardAudit,
 * and a read-only one (bull-board's read-only mode is per queue registration, not per user). The
 * dashboard's middleware checks HTTP Basic credentials (a key's name and secret) and serves the
 * operators' board to operator and admin keys, the read-only board to auditor keys, at one URL.
 *
 * Wired as @bull-board/nestjs's BullBoardModule does it (middleware, then the board's Express app,
 * on the route), without that package: it is CommonJS and `require`s @nestjs/common, which is
 * ESM-only in Nest 12, and Jest's ESM mode on Node 20 cannot load that, so no e2e suite could boot.
 */
@Module({
  imports: [JobsModule, AuditModule, SchedulingModule, EscalationsModule],
  providers: [JobAudit, BoardAudit, OperatorJobs],
  controllers: [JobsController],
})
export class DashboardModule implements NestModule {
  constructor(
    private readonly keys: ApiKeyRing,
    private readonly jobs: JobAudit,
    private readonly audit: BoardAudit,
    private readonly limiter: RequestLimiter,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    const queues = this.jobs.allQueues();
    const operators = board(queues, { readOnly: false, title: 'Dunning queues', hooks: this.audit.hooks });
    const auditors = board(queues, { readOnly: true, title: 'Dunning queues (read-only)', hooks: READ_ONLY_HOOKS });
    // The API's rate limit first: guessing Basic credentials here is limited like any request.
    consumer.apply(limitRequests(this.limiter), dashboardAuth(this.keys, auditors), operators).forRoutes(DASHBOARD_ROUTE);
  }
}
