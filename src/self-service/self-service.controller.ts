import { Body, Controller, ForbiddenException, Get, Headers, HttpCode, Inject, NotFoundException, Param, Post, Req, Res } from '@nestjs/common';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { promiseRequest } from '../cases/cases.controller';
import { Public } from '../common/auth/roles.decorator';
import { DomainError } from '../common/errors';
import { parseOrThrow } from '../common/zod-validation';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiErrors, ApiZodBody, ApiZodParam } from '../docs/decorators';
import { NOTICE_CHANNELS } from '../domain/delivery-status';
import { PLAN_MAX_PROPOSED } from '../domain/self-service';
import { sendLetterPdf } from '../letters/letter-pdf-response';
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

const caseId = z.uuid('must be a case id (UUID)');
const letterId = z.uuid('must be a letter id (UUID)');
export const revokeRequest = z.strictObject({
  reason: z.string({ error: 'must be text' }).trim().min(1, 'must say why the links are revoked').max(1000, 'must be at most 1000 characters'),
});

/** A ticked box is `on`; an unticked one is not sent at all. */
const ticked = z.literal('on', { error: 'must be on, or left out' }).optional();
export const preferencesForm = z.strictObject({ formToken, email: ticked, sms: ticked });

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

  @Post(':token/preferences')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Contact preferences',
    description:
      'The reminder channels the debtor accepts (a ticked `email`, `sms`); a declined one is not used for reminders: the step goes by its fallback or is skipped. Recorded as `debtor.updated` with the actor `debtor`.',
  })
  @ApiZodBody(preferencesForm)
  @ApiOkResponse({ description: 'The page, saying the preferences are saved', content: { 'text/html': { schema: { type: 'string' } } } })
  @ApiErrors(400, 403)
  async preferences(
    @Param('token') token: string,
    @Body() body: unknown,
    @Headers('origin') origin: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    await this.respond(req, res, token, async (link) => {
      const form = this.form(link, preferencesForm, body, origin);
      await this.service.preferences(
        link,
        NOTICE_CHANNELS.filter((channel) => form[channel] !== 'on'),
      );
      return this.service.view(link, { kind: 'status', key: 'preferences', values: {} });
    });
  }

  @Get(':token/letters/:letterId')
  @Public()
  @ApiOperation({
    summary: 'A letter to the debtor (PDF)',
    description:
      "The exact bytes issued, as `GET /v1/letters/:id/pdf` serves them; only the link's case's letters to its debtor. Recorded as `self-service.viewed`.",
  })
  @ApiParam({ name: 'letterId', description: "A letter's id, from the page's list of letters" })
  @ApiOkResponse({ description: 'The PDF', content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } } })
  async letter(@Param('token') token: string, @Param('letterId') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const link = await this.opened(req, res, token);
    const parsed = letterId.safeParse(id);
    if (!parsed.success) throw new NotFoundException(`letter ${id} not found`);
    const letter = await this.service.letter(link, parsed.data);
    await this.service.letterViewed(link, letter);
    sendLetterPdf(res, letter);
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
    const link = await this.opened(req, res, token);
    try {
      const page = selfServicePage(await action(link));
      res.status(200).type('text/html; charset=utf-8').send(page);
    } catch (error) {
      if (error instanceof Forbidden) throw new ForbiddenException('a form must be posted from its own page');
      if (!(error instanceof DomainError)) throw error;
      const view = await this.service.view(link, {
        kind: 'alert',
        problem: { code: error.code, text: error.message, fields: error.details.map((detail) => detail.field) },
      });
      res.status(STATUS[error.code]).type('text/html; charset=utf-8').send(selfServicePage(view));
    }
  }

  /** The link's case, counted against its allowance, kept from caches and other sites; a refused link is a 404. */
  private async opened(req: Request, res: Response, token: string): Promise<OpenedLink> {
    res.setHeader('Cache-Control', 'no-store');
    // Under the app's no-referrer, browsers send `Origin: null` with the page's own forms; same-origin
    // lets them name this origin, while no other site is sent the link (the pay link is rel=noreferrer too).
    res.setHeader('Referrer-Policy', 'same-origin');
    const link = await this.service.open(token);
    // Refusals are the API's JSON errors, as the opt-out page's are; only a form's problem is a page.
    if (!link) throw new NotFoundException(REFUSED);
    await this.limiter.consume(req, res, `self-service:${link.caseId}:${link.issuedAt.getTime()}`);
    return link;
  }
}

/** An operator's side of the links: revoking them, for a link that reached the wrong person or a debtor who asks. */
@ApiTags('Self-service')
@ApiErrors(503)
@Controller('v1/cases')
export class SelfServiceLinksController {
  constructor(private readonly service: SelfService) {}

  @Post(':id/self-service/revoke')
  @Roles('operator')
  @ApiOperation({
    summary: "Revoke a case's self-service links",
    description:
      'Every link of the case issued until now is refused (the same 404 as an expired one); messages made later carry a new link. Recorded as `self-service.link_revoked`.',
  })
  @ApiZodParam('id', caseId)
  @ApiZodBody(revokeRequest)
  @ApiCreatedResponse({ description: 'The links revoked, and when' })
  @ApiErrors(400, [404, 'No such case'])
  revoke(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { reason } = parseOrThrow(revokeRequest, body ?? {}, 'body');
    return this.service.revokeLinks(parseOrThrow(caseId, id, 'id'), reason, actor);
  }
}
