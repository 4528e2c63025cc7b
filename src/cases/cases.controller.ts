import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
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
}
