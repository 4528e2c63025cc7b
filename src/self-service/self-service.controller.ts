import { Body, Controller, ForbiddenException, Get, Headers, HttpCode, Inject, NotFoundException, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { promiseRequest } from '../cases/cases.controller';
import { Public } from '../common/auth/roles.decorator';
import { DomainError } from '../common/errors';
import { parseOrThrow } from '../common/zod-validation';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiErrors, ApiZodBody } from '../docs/decorators';
import { PLAN_MAX_PROPOSED } from '../domain/self-service';
import { RequestLimiter } from '../rate-limit/rate-limit.guard';
import { selfServicePage, SELF_SERVICE_POLICY, type SelfServiceView } from './self-service-page';
import { type OpenedLink, SelfService } from './self-service.service';

/** Where the page and its forms are served. */
export const SELF_SERVICE_PREFIX = '/v1/self-service/';

const formToken = z.string({ error: 'must be the form token of the page' }).max(100);
export const promiseForm = promiseRequest.extend({ formToken });
export const planForm = z.strictObject({
  formToken,
  instalments: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(2, 'a plan needs at least 2 instalments')
    .max(PLAN_MAX_PROPOSED, `at most ${PLAN_MAX_PROPOSED} instalments`),
  firstDate: z.iso.date('must be a date (YYYY-MM-DD)'),
});
export const disputeForm = z.strictObject({
  formToken,
  reason: z.string({ error: 'must be text' }).trim().min(3, 'must say in a few words what is wrong').max(1000, 'must be at most 1000 characters'),
});

const STATUS: Record<DomainError['code'], number> = { validation: 400, not_found: 404, conflict: 409, unprocessable: 422 };

/** The same answer for an altered, expired or unknown link: it says nothing of which. */
const REFUSED = 'this link is not valid or has expired';

/** A form posted from elsewhere than the link's own page. */
class Forbidden extends Error {}

/**
 * The debtor's self-service page. Public routes: the signed link is the credential (see
 * self-service-link.ts), which names one case and expires. Forms carry a token bound to the link
 * and must come from this service's own origin, so no other site can post them. Every request
 * counts against the link's own rate allowance as well as the caller's address.
 */
@ApiTags('Self-service')
@ApiParam({ name: 'token', description: "The signed link's token, from a notice or letter email" })
@ApiErrors([404, 'Unknown, altered or expired link'], 429, 503)
@Controller('v1/self-service')
export class SelfServiceController {
  private readonly origin: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly service: SelfService,
    private readonly limiter: RequestLimiter,
  ) {
    this.origin = new URL(config.PUBLIC_URL).origin;
  }

  @Get(':token')
  @Public()
  @ApiOperation({
    summary: 'Self-service page',
    description: "The debtor's account, how to pay, and forms to promise, propose a plan and dispute. Recorded as `self-service.viewed`.",
  })
  @ApiOkResponse({ description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } })
  async page(@Param('token') token: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.respond(req, res, token, async (link) => {
      const view = await this.service.view(link);
      await this.service.viewed(link, view);
      return view;
    });
  }

  @Post(':token/promise')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Promise to pay',
    description: 'A promise within the self-service bounds: a promise hold, as an operator records one, with the actor `debtor`.',
  })
  @ApiZodBody(promiseForm)
  @ApiOkResponse({ description: 'The page, saying the promise is recorded', content: { 'text/html': { schema: { type: 'string' } } } })
  @ApiErrors(400, 403, 409, 422)
  async promise(
    @Param('token') token: string,
    @Body() body: unknown,
    @Headers('origin') origin: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    await this.respond(req, res, token, async (link) => {
      const form = this.form(link, promiseForm, body, origin);
      const promise = await this.service.promise(link, form.amount, form.dueDate);
      return this.service.view(link, { kind: 'status', key: 'promised', values: { amount: promise.amount, dueDate: promise.dueDate } });
    });
  }

  @Post(':token/plan')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Propose a payment plan',
    description:
      'Monthly instalments of the balance: inside the self-service bounds agreed at once (`plan.agreed`), else `plan.proposed` and a work item for a collector.',
  })
  @ApiZodBody(planForm)
  @ApiOkResponse({ description: 'The page, saying whether the plan is agreed or proposed', content: { 'text/html': { schema: { type: 'string' } } } })
  @ApiErrors(400, 403, 409, 422)
  async plan(@Param('token') token: string, @Body() body: unknown, @Headers('origin') origin: string | undefined, @Req() req: Request, @Res() res: Response) {
    await this.respond(req, res, token, async (link) => {
      const form = this.form(link, planForm, body, origin);
      const plan = await this.service.plan(link, form.instalments, form.firstDate);
      return this.service.view(link, { kind: 'status', key: plan.outcome, values: { count: plan.instalments.length } });
    });
  }

  @Post(':token/dispute')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Dispute', description: "A dispute with the debtor's reason: a dispute hold with the actor `debtor`." })
  @ApiZodBody(disputeForm)
  @ApiOkResponse({ description: 'The page, saying the dispute is received', content: { 'text/html': { schema: { type: 'string' } } } })
  @ApiErrors(400, 403, 409)
  async dispute(
    @Param('token') token: string,
    @Body() body: unknown,
    @Headers('origin') origin: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    await this.respond(req, res, token, async (link) => {
      const form = this.form(link, disputeForm, body, origin);
      await this.service.dispute(link, form.reason);
      return this.service.view(link, { kind: 'status', key: 'disputed', values: {} });
    });
  }

  /** The form's fields, once it is known to come from this link's own page. */
  private form<S extends z.ZodType>(link: OpenedLink, schema: S, body: unknown, origin: string | undefined): z.output<S> {
    if (origin !== this.origin) throw new Forbidden();
    const given = body && typeof body === 'object' ? (body as Record<string, unknown>).formToken : undefined;
    if (!this.service.formTokenValid(link, given)) throw new Forbidden();
    return parseOrThrow(schema, body ?? {}, 'form');
  }

  /**
   * Opens the link, runs `action` and answers with the page: a refused link is a JSON 404 that
   * says nothing more; a form's problem is the page again with the problem named (4xx), nothing changed.
   */
  private async respond(req: Request, res: Response, token: string, action: (link: OpenedLink) => Promise<SelfServiceView>): Promise<void> {
    res.setHeader('Content-Security-Policy', SELF_SERVICE_POLICY);
    res.setHeader('Cache-Control', 'no-store');
    // Under the app's no-referrer, browsers send `Origin: null` with the page's own forms; same-origin
    // lets them name this origin, while no other site is sent the link (the pay link is rel=noreferrer too).
    res.setHeader('Referrer-Policy', 'same-origin');
    const link = await this.service.open(token);
    // Refusals are the API's JSON errors, as the opt-out page's are; only a form's problem is a page.
    if (!link) throw new NotFoundException(REFUSED);
    await this.limiter.consume(req, res, `self-service:${link.caseId}:${link.issuedAt.getTime()}`);
    try {
      const page = selfServicePage(await action(link));
      res.status(200).type('text/html; charset=utf-8').send(page);
    } catch (error) {
      if (error instanceof Forbidden) throw new ForbiddenException('a form must be posted from its own page');
      if (!(error instanceof DomainError)) throw error;
      const view = await this.service.view(link, { kind: 'alert', text: error.message });
      res.status(STATUS[error.code]).type('text/html; charset=utf-8').send(selfServicePage(view));
    }
  }
}
