import { Controller, Get, Param, Query } from '@nestjs/common';
import { z } from 'zod';
import { Roles } from '../common/auth/roles.decorator';
import { parseOrThrow } from '../common/zod-validation';
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

@Controller('v1/cases')
export class CasesController {
  constructor(private readonly cases: CaseQueries) {}

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
}
