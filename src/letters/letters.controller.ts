import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodBody, ApiZodParam, ApiZodQuery } from '../docs/decorators';
import { calendarPeriod, letterDelivery, letterDocuments } from '../domain/policy';
import { LETTER_TYPES } from '../domain/letter-fields';
import { LetterRegister } from './letter-register.service';
import { sendLetterPdf } from './letter-pdf-response';
import { LetterRequests } from './letter-requests.service';

const caseId = z.uuid('must be a case id (UUID)');
const letterId = z.uuid('must be a letter id (UUID)');
const letterType = z.enum(LETTER_TYPES, { error: `must be one of ${LETTER_TYPES.join(', ')}` });

export const letterRequest = z.strictObject({
  type: letterType,
  deliver: letterDelivery.default(['email', 'post']),
  deadline: calendarPeriod.optional(),
  documents: letterDocuments.optional(),
});

export const listQuery = z
  .strictObject({
    caseId: caseId.optional(),
    type: letterType.optional(),
    delivery: z.enum(['email', 'post']).optional(),
    status: z.string().min(1).optional(),
    cursor: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .superRefine((query, ctx) => {
    if (!query.status) return;
    const allowed =
      query.delivery === 'email'
        ? ['pending', 'sent', 'failed', 'skipped']
        : query.delivery === 'post'
          ? ['queued', 'posted', 'delivered', 'returned', 'skipped']
          : [];
    if (allowed.length === 0) ctx.addIssue({ code: 'custom', path: ['status'], message: 'needs delivery=email or delivery=post' });
    else if (!allowed.includes(query.status))
      ctx.addIssue({ code: 'custom', path: ['status'], message: `must be one of ${allowed.join(', ')} for ${query.delivery}` });
  });

export const trackingUpdate = z.strictObject({
  carrier: z.string().trim().min(1, 'must not be empty').max(100),
  trackingNumber: z.string().trim().min(1, 'must not be empty').max(100),
  status: z.enum(['posted', 'delivered', 'returned'], { error: 'must be one of posted, delivered, returned' }),
  at: z
    .string()
    .refine((value) => DateTime.fromISO(value, { setZone: true }).isValid && /(Z|[+-]\d{2}:?\d{2})$/.test(value), 'must be an ISO-8601 instant with an offset')
    .optional(),
});

@ApiTags('Letters')
@ApiErrors(503)
@Controller('v1')
export class LettersController {
  constructor(
    private readonly requests: LetterRequests,
    private readonly register: LetterRegister,
  ) {}

  /** Issues a letter now: 201 with the letter (number, hash, deliveries); emails go out through the step queue. */
  @Post('cases/:id/letters')
  @Roles('operator')
  @ApiOperation({
    summary: 'Send a letter now',
    description:
      'Issues a letter of the given type on an open case: 201 with the letter (number, hash, deliveries); emails go out through the step queue, post joins the print queue.',
  })
  @ApiZodParam('id', caseId)
  @ApiZodBody(letterRequest)
  @ApiCreatedResponse({ description: 'The letter issued' })
  @ApiErrors(
    400,
    [404, 'No such case'],
    [409, 'The case is on hold or closed'],
    [422, 'No letter can be sent (no allowed delivery), or its text has characters the letter fonts cannot draw'],
  )
  send(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { type, ...options } = parseOrThrow(letterRequest, body ?? {}, 'body');
    return this.requests.request(parseOrThrow(caseId, id, 'id'), { at: 'PT0S', action: 'letter', letter: type, ...options }, actor);
  }

  /** `delivery=post&status=queued` is the print-and-mail vendor's work queue. */
  @Get('letters')
  @Roles('operator', 'auditor')
  @ApiOperation({
    summary: 'List letters',
    description: "`delivery=post&status=queued` is the print-and-mail vendor's work queue. Answers `{items, nextCursor}`.",
  })
  @ApiZodQuery(listQuery)
  @ApiOkResponse({ description: 'A page of letters' })
  @ApiErrors(400)
  list(@Query() query: unknown) {
    return this.register.list(parseOrThrow(listQuery, query, 'query'));
  }

  @Get('letters/:id')
  @Roles('operator', 'auditor')
  @ApiOperation({ summary: 'One letter', description: 'The letter with its deliveries, hash and postal tracking.' })
  @ApiZodParam('id', letterId)
  @ApiOkResponse({ description: 'The letter' })
  @ApiErrors(400, [404, 'No such letter'])
  get(@Param('id') id: string) {
    return this.register.get(parseOrThrow(letterId, id, 'id'));
  }

  /** The exact bytes issued; their sha256 is the ETag and the hash on the letter's touches. */
  @Get('letters/:id/pdf')
  @Roles('operator', 'auditor')
  @ApiOperation({
    summary: "A letter's PDF",
    description: "The exact bytes issued; their sha256 is the ETag, the `Repr-Digest` and the hash on the letter's touches.",
  })
  @ApiZodParam('id', letterId)
  @ApiOkResponse({ description: 'The PDF', content: { 'application/pdf': { schema: { type: 'string', format: 'binary' } } } })
  @ApiErrors(400, [404, 'No such letter'])
  @Header('Cache-Control', 'private, no-store')
  async pdf(@Param('id') id: string, @Res() res: Response): Promise<void> {
    sendLetterPdf(res, await this.register.pdf(parseOrThrow(letterId, id, 'id')));
  }

  @Post('letters/:id/tracking')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({
    summary: 'Record postal tracking',
    description:
      "The print-and-mail vendor reports a posted letter's carrier, tracking number and status (posted, delivered, returned); each change is a touch. Repeating a report changes nothing.",
  })
  @ApiZodParam('id', letterId)
  @ApiZodBody(trackingUpdate)
  @ApiOkResponse({ description: 'The letter with its tracking' })
  @ApiErrors(400, [404, 'No such letter'], [409, 'The letter has no postal delivery, names another carrier or number, or cannot move to that status'])
  track(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    return this.register.track(parseOrThrow(letterId, id, 'id'), parseOrThrow(trackingUpdate, body ?? {}, 'body'), actor);
  }
}
