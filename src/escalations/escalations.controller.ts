import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { stringify } from 'csv-stringify/sync';
import { spreadsheetSafe, streamDownload } from '../common/download';
import type { Response } from 'express';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { Clock } from '../common/clock';
import { DECIMAL_PATTERN } from '../domain/money';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodBody, ApiZodParam, ApiZodQuery } from '../docs/decorators';
import { PLACEMENT_COLUMNS, PlacementRecord, Placements } from './placements.service';
import { ALL_OUTCOMES, WORK_ITEM_KINDS, WORK_ITEM_STATUSES, WorkItems } from './work-items.service';

const workItemId = z.uuid('must be a work item id (UUID)');
const assignee = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');
const limit = z.coerce.number().int().min(1).max(500).default(50);

export const workItemQuery = z.strictObject({
  assignee: assignee.optional(),
  status: z.enum(WORK_ITEM_STATUSES, { error: `must be one of ${WORK_ITEM_STATUSES.join(', ')}` }).optional(),
  kind: z.enum(WORK_ITEM_KINDS, { error: `must be one of ${WORK_ITEM_KINDS.join(', ')}` }).optional(),
  caseId: z.uuid('must be a case id (UUID)').optional(),
  cursor: z.string().min(1).optional(),
  limit,
});

export const claimBody = z.strictObject({ assignee: assignee.optional() });

export const outcomeBody = z
  .strictObject({
    outcome: z.enum(ALL_OUTCOMES, { error: `must be one of ${ALL_OUTCOMES.join(', ')}` }),
    note: z.string().trim().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters').optional(),
    promise: z
      .strictObject({
        amount: z.string().regex(DECIMAL_PATTERN, 'must be a decimal amount such as "100.00"'),
        dueDate: z.iso.date('must be a date (YYYY-MM-DD)'),
      })
      .optional(),
    assignee: assignee.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.outcome === 'promised' && !body.promise) ctx.addIssue({ code: 'custom', path: ['promise'], message: 'is required when the outcome is promised' });
    if (body.outcome !== 'promised' && body.promise) ctx.addIssue({ code: 'custom', path: ['promise'], message: 'goes only with the outcome promised' });
  });

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

/** The collectors' work queue (operator). */
@ApiTags('Work items')
@ApiErrors(503)
@Controller('v1/work-items')
export class WorkItemsController {
  constructor(private readonly workItems: WorkItems) {}

  /** Oldest first; `status=open&kind=collector` is the collectors' queue, `assignee=<name>` one person's desk. */
  @Get()
  @Roles('operator')
  @ApiOperation({
    summary: 'List work items',
    description: "Oldest first; `status=open&kind=collector` is the collectors' queue, `assignee=<name>` one person's desk. Answers `{items, nextCursor}`.",
  })
  @ApiZodQuery(workItemQuery)
  @ApiOkResponse({ description: 'A page of work items' })
  @ApiErrors(400)
  list(@Query() query: unknown) {
    return this.workItems.list(parseOrThrow(workItemQuery, query, 'query'));
  }

  @Get(':id')
  @Roles('operator')
  @ApiOperation({ summary: 'One work item', description: 'The item with its case, assignee, status and outcome.' })
  @ApiZodParam('id', workItemId)
  @ApiOkResponse({ description: 'The work item' })
  @ApiErrors(400, [404, 'No such work item'])
  get(@Param('id') id: string) {
    return this.workItems.get(parseOrThrow(workItemId, id, 'id'));
  }

  /** Takes the item for `assignee` (the caller's key name by default); again for the same assignee is a no-op. */
  @Post(':id/claim')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({
    summary: 'Claim a work item',
    description: "Takes the item for `assignee` (the caller's key name by default); claiming again for the same assignee changes nothing.",
  })
  @ApiZodParam('id', workItemId)
  @ApiZodBody(claimBody, { optional: true, description: "Who takes the item: the caller's key name by default" })
  @ApiOkResponse({ description: 'The work item, claimed' })
  @ApiErrors(400, [404, 'No such work item'], [409, 'The item is done, or claimed by someone else'])
  claim(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const parsed = parseOrThrow(claimBody, body ?? {}, 'body');
    return this.workItems.claim(parseOrThrow(workItemId, id, 'id'), parsed.assignee ?? actor, actor);
  }

  /** The assignee's report; closes the item. The answer is the item (with the promise taken, if any). */
  @Post(':id/outcome')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({
    summary: 'Report the outcome',
    description:
      "The assignee's report; closes the item. A `promised` outcome carries a promise, recorded as the case's promise to pay (it pauses the ladder).",
  })
  @ApiZodParam('id', workItemId)
  @ApiZodBody(outcomeBody)
  @ApiOkResponse({ description: 'The work item, done (with the promise taken, if any)' })
  @ApiErrors(400, [404, 'No such work item'], [409, 'The item is not claimed, is held by someone else, or is already done'])
  async outcome(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const report = parseOrThrow(outcomeBody, body ?? {}, 'body');
    // A promise taken here is recorded as a promise to pay on the case (it pauses the ladder).
    const { item } = await this.workItems.complete(parseOrThrow(workItemId, id, 'id'), report, actor);
    return item;
  }
}

/** Agency placements: the listing and the agency's CSV file (operator, finance). */
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
