import { Body, Controller, Get, Header, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { parseOrThrow } from '../common/zod-validation';
import { calendarPeriod, letterDelivery, letterDocuments } from '../policies/policy.schema';
import { LETTER_TYPES } from './letter-fields';
import { LetterRegister } from './letter-register.service';
import { LetterRequests } from './letter-requests.service';

const caseId = z.uuid('must be a case id (UUID)');
const letterId = z.uuid('must be a letter id (UUID)');
const letterType = z.enum(LETTER_TYPES, { error: `must be one of ${LETTER_TYPES.join(', ')}` });

const letterRequest = z.strictObject({
  type: letterType,
  deliver: letterDelivery.default(['email', 'post']),
  deadline: calendarPeriod.optional(),
  documents: letterDocuments.optional(),
});

const listQuery = z
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
    const allowed = query.delivery === 'email' ? ['pending', 'sent', 'failed', 'skipped'] : query.delivery === 'post' ? ['queued', 'posted', 'delivered', 'returned', 'skipped'] : [];
    if (allowed.length === 0) ctx.addIssue({ code: 'custom', path: ['status'], message: 'needs delivery=email or delivery=post' });
    else if (!allowed.includes(query.status)) ctx.addIssue({ code: 'custom', path: ['status'], message: `must be one of ${allowed.join(', ')} for ${query.delivery}` });
  });

const trackingUpdate = z.strictObject({
  carrier: z.string().trim().min(1, 'must not be empty').max(100),
  trackingNumber: z.string().trim().min(1, 'must not be empty').max(100),
  status: z.enum(['posted', 'delivered', 'returned'], { error: 'must be one of posted, delivered, returned' }),
  at: z
    .string()
    .refine((value) => DateTime.fromISO(value, { setZone: true }).isValid && /(Z|[+-]\d{2}:?\d{2})$/.test(value), 'must be an ISO-8601 instant with an offset')
    .optional(),
});

@Controller('v1')
export class LettersController {
  constructor(
    private readonly requests: LetterRequests,
    private readonly register: LetterRegister,
  ) {}

  /** Issues a letter now: 201 with the letter (number, hash, deliveries); emails go out through the step queue. */
  @Post('cases/:id/letters')
  @Roles('operator')
  send(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { type, ...options } = parseOrThrow(letterRequest, body ?? {}, 'body');
    return this.requests.request(parseOrThrow(caseId, id, 'id'), { at: 'PT0S', action: 'letter', letter: type, ...options }, actor);
  }

  /** `delivery=post&status=queued` is the print-and-mail vendor's work queue. */
  @Get('letters')
  @Roles('operator', 'auditor')
  list(@Query() query: unknown) {
    return this.register.list(parseOrThrow(listQuery, query, 'query'));
  }

  @Get('letters/:id')
  @Roles('operator', 'auditor')
  get(@Param('id') id: string) {
    return this.register.get(parseOrThrow(letterId, id, 'id'));
  }

  /** The exact bytes issued; their sha256 is the ETag and the hash on the letter's touches. */
  @Get('letters/:id/pdf')
  @Roles('operator', 'auditor')
  @Header('Cache-Control', 'private, no-store')
  async pdf(@Param('id') id: string, @Res() res: Response): Promise<void> {
    const letter = await this.register.pdf(parseOrThrow(letterId, id, 'id'));
    res
      .status(200)
      .type('application/pdf')
      .set('Content-Disposition', `inline; filename="${letter.number}.pdf"`)
      .set('ETag', `"${letter.sha256}"`)
      .set('Repr-Digest', `sha-256=:${Buffer.from(letter.sha256, 'hex').toString('base64')}:`)
      .send(letter.pdf);
  }

  @Post('letters/:id/tracking')
  @HttpCode(200)
  @Roles('operator')
  track(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    return this.register.track(parseOrThrow(letterId, id, 'id'), parseOrThrow(trackingUpdate, body ?? {}, 'body'), actor);
  }
}
