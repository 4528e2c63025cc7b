import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { Clock } from '../common/clock';
import { spreadsheetSafe, streamDownload } from '../common/download';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodBody, ApiZodQuery } from '../docs/decorators';
import { EVIDENCE_TABLES } from '../domain/evidence-partitions';
import { AuditService, type ExportedTouch, VerifyReport } from './audit.service';
import { EvidenceRetention, type RetentionOutcome } from './evidence-retention.service';

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

export const retentionRequest = z.strictObject({
  table: z.enum(EVIDENCE_TABLES, { error: `must be one of ${EVIDENCE_TABLES.join(', ')}` }),
  before: moment.optional(),
  mode: z.enum(['detach', 'drop'], { error: 'must be detach or drop' }),
  note: z.string().trim().min(1, 'must say why (the ticket, the decision)').max(2000),
});

const CSV_COLUMNS = ['id', 'caseId', 'seq', 'kind', 'at', 'actor', 'channel', 'data', 'prevHash', 'hash'] as const;
const csvRow = (touch: ExportedTouch) => ({ ...touch, at: touch.at.toISOString(), actor: spreadsheetSafe(touch.actor), data: JSON.stringify(touch.data) });

@ApiTags('Audit')
@ApiErrors(503)
@Controller('v1/audit')
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly retention: EvidenceRetention,
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
  async export(@Query() query: unknown, @Res() res: Response, @Actor() actor: string): Promise<void> {
    const { from, to, caseId, format } = parseOrThrow(exportQuery, query, 'query');
    const until = to ?? this.clock.now();
    // The newest seal goes with the file: with it the download verifies on its own, and retention relies on it.
    const seal = await this.audit.lastSeal();
    if (seal) res.set('X-Audit-Seal', `${seal.id} ${seal.hash}`);
    let touches = 0;
    const pages = counted(this.audit.exportPages({ from, to: until, caseId }), (rows) => (touches += rows));
    const name = `audit-${from.toISOString().slice(0, 10)}`;
    // Recorded once the whole file is written, before it ends: a download cut short is no export.
    const complete = () =>
      this.audit.recordExport({ at: this.clock.now(), actor, from, to: until, caseId: caseId ?? null, format, touches, seal: seal ?? null });
    await streamDownload(
      res,
      pages,
      format === 'csv'
        ? {
            type: 'text/csv; charset=utf-8',
            filename: `${name}.csv`,
            head: stringify([], { header: true, columns: [...CSV_COLUMNS] }),
            render: (page) => stringify(page.map(csvRow), { columns: [...CSV_COLUMNS] }),
            complete,
          }
        : {
            type: 'application/x-ndjson',
            filename: `${name}.ndjson`,
            render: (page) => page.map((touch) => `${JSON.stringify(touch)}\n`).join(''),
            complete,
          },
    );
  }

  /** Detaches or drops the month partitions of touches or dispatches past their retention: an administrator's audited action. */
  @Post('retention')
  @HttpCode(200)
  @Roles()
  @ApiOperation({
    summary: 'Run retention on an evidence table',
    description:
      "Detaches (`mode: detach`, kept as a table of its own for archiving) or drops the month partitions of `touches` or `dispatches` wholly before the cut-off: now minus the table's retention (RETENTION_TOUCHES, RETENTION_DISPATCHES), or an earlier `before`. Refused below RETENTION_LEGAL_MINIMUM, for a table kept forever, and until an export of the whole trail over those months was downloaded after a seal covering their touches. Recorded with the `note`.",
  })
  @ApiZodBody(retentionRequest)
  @ApiOkResponse({
    description: 'The run: `{runId, table, mode, cutoff, partitions, exportId, sealId, anchoredCases?}`; `runId` null when nothing was past the cut-off',
  })
  @ApiErrors(400, [422, 'The table is kept forever, no export or seal covers the partitions yet, or a chain would be cut in the middle'])
  runRetention(@Body() body: unknown, @Actor() actor: string): Promise<RetentionOutcome> {
    const request = parseOrThrow(retentionRequest, body ?? {}, 'body');
    return this.retention.run({ ...request, actor });
  }
}

/** The pages, telling `count` how many rows each has as it passes. */
async function* counted<T>(pages: AsyncGenerator<T[]>, count: (rows: number) => void): AsyncGenerator<T[]> {
  for await (const page of pages) {
    count(page.length);
    yield page;
  }
}
