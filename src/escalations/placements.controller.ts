import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { stringify } from 'csv-stringify/sync';
import type { Response } from 'express';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { Roles } from '../common/auth/roles.decorator';
import { Clock } from '../common/clock';
import { spreadsheetSafe, streamDownload } from '../common/download';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodQuery } from '../docs/decorators';
import { PLACEMENT_COLUMNS, type PlacementRecord, Placements } from './placements.service';

/** An instant with an offset, or a date (its start in UTC). */
const since = z
  .string()
  .meta({ description: 'A date (YYYY-MM-DD, from its start in UTC) or an ISO-8601 instant with an offset', example: '2026-10-01' })
  .transform((value, ctx) => {
    const parsed = /^\d{4}-\d{2}-\d{2}$/.test(value)
      ? DateTime.fromISO(value, { zone: 'utc' })
      : /(Z|[+-]\d{2}:?\d{2})$/.test(value)
        ? DateTime.fromISO(value, { setZone: true })
        : DateTime.invalid('no offset');
    if (!parsed.isValid) {
      ctx.addIssue({ code: 'custom', message: 'must be a date (YYYY-MM-DD) or an ISO-8601 instant with an offset' });
      return z.NEVER;
    }
    return parsed.toJSDate();
  });

export const placementQuery = z
  .strictObject({
    agency: z.string().trim().min(1).max(200).optional(),
    since: since.optional(),
    format: z.enum(['json', 'csv'], { error: 'must be json or csv' }).default('json'),
    cursor: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .superRefine((query, ctx) => {
    if (query.format !== 'csv') return;
    // The file is the whole selection; paging it would hand the agency part of its cases.
    for (const field of ['cursor', 'limit'] as const) {
      if (query[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'applies to format=json only; the CSV holds every match' });
    }
  });

/** The text columns a spreadsheet could run as a formula (CWE-1236). */
const TEXT_COLUMNS = new Set<keyof PlacementRecord>(['agency', 'invoiceExternalId', 'contractRef', 'debtorExternalId', 'debtorName']);
const csvSafe = (row: PlacementRecord) =>
  Object.fromEntries(
    PLACEMENT_COLUMNS.map((column) => {
      const value = row[column];
      return [column, TEXT_COLUMNS.has(column) ? spreadsheetSafe(value) : value];
    }),
  );

@ApiTags('Placements')
@ApiErrors(503)
@Controller('v1/placements')
export class PlacementsController {
  constructor(
    private readonly placements: Placements,
    private readonly clock: Clock,
  ) {}

  /** `format=csv` is the agency's file: every match, oldest first; json pages with `cursor` and `limit`. */
  @Get()
  @Roles('operator', 'finance')
  @ApiOperation({
    summary: 'List agency placements',
    description:
      "`format=json` (default) pages with `cursor` and `limit` and answers `{items, nextCursor}`; `format=csv` is the agency's file: every match, oldest first, as an attachment.",
  })
  @ApiZodQuery(placementQuery)
  @ApiOkResponse({
    description: 'A page of placements (JSON) or the CSV file',
    content: { 'application/json': {}, 'text/csv': { schema: { type: 'string' } } },
  })
  @ApiErrors(400)
  async list(@Query() query: unknown, @Res() res: Response): Promise<void> {
    const { format, cursor, limit: size, ...filter } = parseOrThrow(placementQuery, query, 'query');
    if (format === 'json') {
      res.status(200).json(await this.placements.list({ ...filter, cursor, limit: size ?? 50 }));
      return;
    }
    const date = DateTime.fromJSDate(this.clock.now(), { zone: 'utc' }).toISODate();
    await streamDownload(res, this.placements.records(filter), {
      type: 'text/csv; charset=utf-8',
      filename: `placements-${date}.csv`,
      head: stringify([], { header: true, columns: [...PLACEMENT_COLUMNS] }),
      render: (page) => stringify(page.map(csvSafe), { columns: [...PLACEMENT_COLUMNS] }),
    });
  }
}
