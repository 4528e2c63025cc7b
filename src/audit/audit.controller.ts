import { Controller, Get, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth/roles.decorator';
import { Clock } from '../common/clock';
import { spreadsheetSafe, streamDownload } from '../common/download';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodQuery } from '../docs/decorators';
import { AuditService, type ExportedTouch, VerifyReport } from './audit.service';

const moment = z
  .string()
  .refine(
    (value) => DateTime.fromISO(value, { setZone: true }).isValid && (/^\d{4}-\d{2}-\d{2}$/.test(value) || /(Z|[+-]\d{2}:?\d{2})$/.test(value)),
    'must be a date (YYYY-MM-DD, UTC midnight) or an ISO-8601 instant with an offset',
  )
  .transform((value) => DateTime.fromISO(value, { zone: 'utc', setZone: true }).toJSDate());
export const exportQuery = z
  .strictObject({
    from: moment,
    to: moment.optional(),
    caseId: z.uuid('must be a case id (UUID)').optional(),
    format: z.enum(['ndjson', 'csv'], { error: 'must be ndjson or csv' }).default('ndjson'),
  })
  .refine((query) => !query.to || query.from < query.to, { path: ['to'], message: 'must be after from' });

const CSV_COLUMNS = ['id', 'caseId', 'seq', 'kind', 'at', 'actor', 'channel', 'data', 'prevHash', 'hash'] as const;
const csvRow = (touch: ExportedTouch) => ({ ...touch, at: touch.at.toISOString(), actor: spreadsheetSafe(touch.actor), data: JSON.stringify(touch.data) });

@ApiTags('Audit')
@ApiErrors(503)
@Controller('v1/audit')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** Walks every case's hash chain and the seals over their heads. */
  @Get('verify')
  @Roles('auditor')
  @ApiOperation({
    summary: 'Verify the audit trail',
    description:
      "Walks every case's hash chain and the seals over their heads: `{ok, checked, seals, brokenAt?}`; `brokenAt` names the first touch or seal that does not verify.",
  })
  @ApiOkResponse({ description: 'The verification report (`ok: false` when a chain is broken)' })
  verify(): Promise<VerifyReport> {
    return this.audit.verify();
  }

  /** The trail as a file: one JSON object per line, or CSV with the data as JSON text; streamed a page at a time. */
  @Get('export')
  @Roles('auditor')
  @ApiOperation({
    summary: 'Export the audit trail',
    description:
      'Touches recorded in [from, to) (to defaults to now), oldest first, optionally of one case: `format=ndjson` (default) or `csv`, as a download.',
  })
  @ApiZodQuery(exportQuery)
  @ApiOkResponse({ description: 'The touches as NDJSON or CSV', content: { 'application/x-ndjson': {}, 'text/csv': { schema: { type: 'string' } } } })
  @ApiErrors(400)
  async export(@Query() query: unknown, @Res() res: Response): Promise<void> {
    const { from, to, caseId, format } = parseOrThrow(exportQuery, query, 'query');
    const pages = this.audit.exportPages({ from, to: to ?? this.clock.now(), caseId });
    const name = `audit-${from.toISOString().slice(0, 10)}`;
    await streamDownload(
      res,
      pages,
      format === 'csv'
        ? {
            type: 'text/csv; charset=utf-8',
            filename: `${name}.csv`,
            head: stringify([], { header: true, columns: [...CSV_COLUMNS] }),
            render: (page) => stringify(page.map(csvRow), { columns: [...CSV_COLUMNS] }),
          }
        : { type: 'application/x-ndjson', filename: `${name}.ndjson`, render: (page) => page.map((touch) => `${JSON.stringify(touch)}\n`).join('') },
    );
  }
}
