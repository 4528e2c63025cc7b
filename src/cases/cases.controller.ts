import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { DECIMAL_PATTERN } from '../common/money';
import { parseOrThrow } from '../common/zod-validation';
import { CaseCommands, OPERATOR_HOLD_KINDS } from './case-commands.service';
import { CaseQueries } from './case-queries.service';

const caseId = z.uuid('must be a case id (UUID)');
const limit = z.coerce.number().int().min(1).max(500).default(50);
const listQuery = z.strictObject({
  status: z.enum(['active', 'on_hold', 'resolved', 'cancelled', 'written_off', 'closed']).optional(),
  stage: z.enum(['upcoming', 'early', 'middle', 'late', 'severe']).optional(),
  debtorExternalId: z.string().min(1).optional(),
  limitationBefore: z.iso.date('must be a date (YYYY-MM-DD)').optional(),
  cursor: z.string().min(1).optional(),
  limit,
});
const pageQuery = z.strictObject({ cursor: z.string().min(1).optional(), limit });
const reason = z.string().trim().min(1, 'must not be empty').max(1000);
const holdRequest = z.strictObject({ kind: z.enum(OPERATOR_HOLD_KINDS, { error: `must be one of ${OPERATOR_HOLD_KINDS.join(', ')}` }), reason });
const holdRelease = z.strictObject({ reason: reason.default('released by an operator') });
const decimal = z.string({ error: 'must be a decimal string such as "250.00"' }).regex(DECIMAL_PATTERN, 'must be a positive decimal string such as "250.00"');
const calendarDate = z.iso.date('must be a date (YYYY-MM-DD)');
const promiseRequest = z.strictObject({ amount: decimal, dueDate: calendarDate });
const planRequest = z.strictObject({
  instalments: z.array(z.strictObject({ dueDate: calendarDate, amount: decimal })).min(2, 'a plan needs at least 2 instalments').max(60, 'at most 60 instalments'),
});

@Controller('v1/cases')
export class CasesController {
  constructor(
    private readonly cases: CaseQueries,
    private readonly commands: CaseCommands,
  ) {}

  @Get()
  @Roles('finance', 'operator', 'auditor')
  list(@Query() query: unknown) {
    return this.cases.list(parseOrThrow(listQuery, query, 'query'));
  }

  @Get(':id')
  @Roles('finance', 'operator', 'auditor')
  detail(@Param('id') id: string) {
    return this.cases.detail(parseOrThrow(caseId, id, 'id'));
  }

  @Get(':id/touches')
  @Roles('operator', 'auditor')
  touches(@Param('id') id: string, @Query() query: unknown) {
    const { cursor, limit: size } = parseOrThrow(pageQuery, query, 'query');
    return this.cases.touches(parseOrThrow(caseId, id, 'id'), cursor, size);
  }

  @Post(':id/holds')
  @Roles('operator')
  placeHold(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { kind, reason: why } = parseOrThrow(holdRequest, body ?? {}, 'body');
    return this.commands.placeHold(parseOrThrow(caseId, id, 'id'), kind, why, actor);
  }

  @Delete(':id/holds/:holdId')
  @HttpCode(200)
  @Roles('operator')
  releaseHold(@Param('id') id: string, @Param('holdId') holdId: string, @Body() body: unknown, @Actor() actor: string) {
    const { reason: why } = parseOrThrow(holdRelease, body ?? {}, 'body');
    return this.commands.releaseHold(parseOrThrow(caseId, id, 'id'), parseOrThrow(z.uuid('must be a hold id (UUID)'), holdId, 'holdId'), why, actor);
  }

  /** A promise to pay taken by an agent: the ladder pauses until its date plus PROMISE_GRACE. */
  @Post(':id/promises')
  @Roles('operator')
  promise(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { amount, dueDate } = parseOrThrow(promiseRequest, body ?? {}, 'body');
    return this.commands.recordPromise(parseOrThrow(caseId, id, 'id'), amount, dueDate, actor);
  }

  @Post(':id/plans')
  @Roles('operator')
  plan(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { instalments } = parseOrThrow(planRequest, body ?? {}, 'body');
    return this.commands.agreePlan(parseOrThrow(caseId, id, 'id'), instalments, actor);
  }
}
