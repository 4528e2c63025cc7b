import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { DECIMAL_PATTERN } from '../domain/money';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodBody, ApiZodParam, ApiZodQuery } from '../docs/decorators';
import { OPERATOR_HOLD_KINDS } from '../domain/holds';
import { CaseCommands } from './case-commands.service';
import { CaseQueries } from './case-queries.service';

const caseId = z.uuid('must be a case id (UUID)');
const limit = z.coerce.number().int().min(1).max(500).default(50);
export const listQuery = z.strictObject({
  status: z.enum(['active', 'on_hold', 'resolved', 'cancelled', 'written_off', 'closed']).optional(),
  stage: z.enum(['upcoming', 'early', 'middle', 'late', 'severe']).optional(),
  debtorExternalId: z.string().min(1).optional(),
  limitationBefore: z.iso.date('must be a date (YYYY-MM-DD)').optional(),
  cursor: z.string().min(1).optional(),
  limit,
});
export const pageQuery = z.strictObject({ cursor: z.string().min(1).optional(), limit });
const reason = z.string().trim().min(1, 'must not be empty').max(1000);
export const holdRequest = z.strictObject({ kind: z.enum(OPERATOR_HOLD_KINDS, { error: `must be one of ${OPERATOR_HOLD_KINDS.join(', ')}` }), reason });
export const holdRelease = z.strictObject({ reason: reason.default('released by an operator') });
const decimal = z.string({ error: 'must be a decimal string such as "250.00"' }).regex(DECIMAL_PATTERN, 'must be a positive decimal string such as "250.00"');
const calendarDate = z.iso.date('must be a date (YYYY-MM-DD)');
export const promiseRequest = z.strictObject({ amount: decimal, dueDate: calendarDate });
const holdIdSchema = z.uuid('must be a hold id (UUID)');
export const planRequest = z.strictObject({
  instalments: z
    .array(z.strictObject({ dueDate: calendarDate, amount: decimal }))
    .min(2, 'a plan needs at least 2 instalments')
    .max(60, 'at most 60 instalments'),
});

@ApiTags('Cases')
@ApiErrors(503)
@Controller('v1/cases')
export class CasesController {
  constructor(
    private readonly cases: CaseQueries,
    private readonly commands: CaseCommands,
  ) {}

  @Get()
  @Roles('finance', 'operator', 'auditor')
  @ApiOperation({
    summary: 'List cases',
    description: 'Filtered by status, stage, debtor or limitation date; newest first, paged with `cursor`. Answers `{items, nextCursor}`.',
  })
  @ApiZodQuery(listQuery)
  @ApiOkResponse({ description: 'A page of cases' })
  @ApiErrors(400)
  list(@Query() query: unknown) {
    return this.cases.list(parseOrThrow(listQuery, query, 'query'));
  }

  @Get(':id')
  @Roles('finance', 'operator', 'auditor')
  @ApiOperation({
    summary: 'One case',
    description: 'The case with its invoice, balance, fees, holds and `schedule` (each planned step with `dueAt` and `status`).',
  })
  @ApiZodParam('id', caseId)
  @ApiOkResponse({ description: 'The case' })
  @ApiErrors(400, [404, 'No such case'])
  detail(@Param('id') id: string) {
    return this.cases.detail(parseOrThrow(caseId, id, 'id'));
  }

  @Get(':id/touches')
  @Roles('operator', 'auditor')
  @ApiOperation({
    summary: "A case's audit trail",
    description: 'Every touch of the case, oldest first, with its hash chain (`prevHash`, `hash`). Answers `{items, nextCursor}`.',
  })
  @ApiZodParam('id', caseId)
  @ApiZodQuery(pageQuery)
  @ApiOkResponse({ description: 'A page of touches' })
  @ApiErrors(400, [404, 'No such case'])
  touches(@Param('id') id: string, @Query() query: unknown) {
    const { cursor, limit: size } = parseOrThrow(pageQuery, query, 'query');
    return this.cases.touchesOf(parseOrThrow(caseId, id, 'id'), cursor, size);
  }

  @Post(':id/holds')
  @Roles('operator')
  @ApiOperation({ summary: 'Place a hold', description: 'Pauses the ladder of an open case until the hold is released; recorded as a `hold.placed` touch.' })
  @ApiZodParam('id', caseId)
  @ApiZodBody(holdRequest)
  @ApiCreatedResponse({ description: 'The hold placed' })
  @ApiErrors(400, [404, 'No such case'], [409, 'The case is closed'])
  placeHold(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { kind, reason: why } = parseOrThrow(holdRequest, body ?? {}, 'body');
    return this.commands.placeHold(parseOrThrow(caseId, id, 'id'), kind, why, actor);
  }

  @Delete(':id/holds/:holdId')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({
    summary: 'Release a hold',
    description: 'Ends an operator hold; the ladder resumes. Deceased and bankruptcy holds end only with their cause.',
  })
  @ApiZodParam('id', caseId)
  @ApiZodParam('holdId', holdIdSchema)
  @ApiZodBody(holdRelease, { optional: true, description: 'A reason, "released by an operator" by default' })
  @ApiOkResponse({ description: 'The hold released' })
  @ApiErrors(400, [404, 'No such case or hold'], [409, 'The case is closed, the hold already released, or it cannot be released by hand'])
  releaseHold(@Param('id') id: string, @Param('holdId') holdId: string, @Body() body: unknown, @Actor() actor: string) {
    const { reason: why } = parseOrThrow(holdRelease, body ?? {}, 'body');
    return this.commands.releaseHold(parseOrThrow(caseId, id, 'id'), parseOrThrow(holdIdSchema, holdId, 'holdId'), why, actor);
  }

  /** A promise to pay taken by an agent: the ladder pauses until its date plus PROMISE_GRACE. */
  @Post(':id/promises')
  @Roles('operator')
  @ApiOperation({
    summary: 'Record a promise to pay',
    description: 'The ladder pauses until the promise date plus PROMISE_GRACE; a broken promise is recorded and follows the policy.',
  })
  @ApiZodParam('id', caseId)
  @ApiZodBody(promiseRequest)
  @ApiCreatedResponse({ description: 'The promise recorded' })
  @ApiErrors(
    400,
    [404, 'No such case'],
    [409, 'The case is closed or has an active payment plan'],
    [422, 'The amount exceeds the balance, or the date is in the past'],
  )
  promise(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { amount, dueDate } = parseOrThrow(promiseRequest, body ?? {}, 'body');
    return this.commands.recordPromise(parseOrThrow(caseId, id, 'id'), amount, dueDate, actor);
  }

  @Post(':id/plans')
  @Roles('operator')
  @ApiOperation({ summary: 'Agree a payment plan', description: 'Instalments (2 to 60) that hold the ladder while they are kept.' })
  @ApiZodParam('id', caseId)
  @ApiZodBody(planRequest)
  @ApiCreatedResponse({ description: 'The plan agreed' })
  @ApiErrors(
    400,
    [404, 'No such case'],
    [409, 'The case is closed or already has an active plan'],
    [422, 'The instalments do not fit the balance or the calendar'],
  )
  plan(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { instalments } = parseOrThrow(planRequest, body ?? {}, 'body');
    return this.commands.agreePlan(parseOrThrow(caseId, id, 'id'), instalments, actor);
  }
}
