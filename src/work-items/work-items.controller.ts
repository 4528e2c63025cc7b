import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodBody, ApiZodParam, ApiZodQuery } from '../docs/decorators';
import { ALL_OUTCOMES, WORK_ITEM_KINDS, WORK_ITEM_STATUSES } from '../domain/escalations';
import { DECIMAL_PATTERN } from '../domain/money';
import { WorkItems } from './work-items.service';

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
  outcome(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const report = parseOrThrow(outcomeBody, body ?? {}, 'body');
    // A promise taken here is recorded as a promise to pay on the case (it pauses the ladder).
    return this.workItems.complete(parseOrThrow(workItemId, id, 'id'), report, actor);
  }
}

/** Agency placements: the listing and the agency's CSV file (operator, finance). */
