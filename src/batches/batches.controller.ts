import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodBody, ApiZodHeader, ApiZodParam, ApiZodQuery } from '../docs/decorators';
import { batchRequest, idempotencyKey, ITEM_STATUSES } from './batch.schemas';
import { Batches } from './batches.service';

const batchId = z.uuid('must be a batch id (UUID)');
export const itemsQuery = z.strictObject({
  status: z.enum(ITEM_STATUSES, { error: `must be one of ${ITEM_STATUSES.join(', ')}` }).optional(),
  cursor: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

@ApiTags('Batches')
@ApiErrors(503)
@Controller('v1/batches')
export class BatchesController {
  constructor(private readonly batches: Batches) {}

  /**
   * Starts a batch: 202 `{id, status, total, …}`. The Idempotency-Key header is required; the same
   * key and body answer the same batch, the same key with another body is a 409.
   */
  @Post()
  @HttpCode(202)
  @Roles('finance')
  @ApiOperation({
    summary: 'Start a batch',
    description:
      '`dunning-run` plans or advances the steps of every matching case as of `asOf`; `letters` sends `letterType` to every match; `terminations` sends contract-termination letters. ' +
      'Workers process it in chunks; `dryRun` lists what would happen and changes nothing. The same Idempotency-Key and body answer the same batch.',
  })
  @ApiZodHeader('Idempotency-Key', idempotencyKey, 'A unique key per batch request, such as a UUID')
  @ApiZodBody(batchRequest)
  @ApiAcceptedResponse({ description: 'The batch: `{id, status, total, …}`' })
  @ApiErrors(400, [409, 'The Idempotency-Key was used for another request body'])
  async create(@Headers('idempotency-key') key: unknown, @Body() body: unknown, @Actor() actor: string) {
    const idempotent = parseOrThrow(idempotencyKey, key, 'header.Idempotency-Key');
    return (await this.batches.create(idempotent, parseOrThrow(batchRequest, body ?? {}, 'body'), actor)).batch;
  }

  @Get(':id')
  @Roles('finance', 'operator', 'auditor')
  @ApiOperation({
    summary: 'One batch',
    description: 'Its status (queued, running, completed, failed, cancelled) and progress: total, pending, done, failed, skipped, cancelled.',
  })
  @ApiZodParam('id', batchId)
  @ApiOkResponse({ description: 'The batch' })
  @ApiErrors(400, [404, 'No such batch'])
  get(@Param('id') id: string) {
    return this.batches.get(parseOrThrow(batchId, id, 'id'));
  }

  @Get(':id/items')
  @Roles('finance', 'operator', 'auditor')
  @ApiOperation({ summary: "A batch's items", description: "Each case's outcome, paged with `cursor`; `status` filters. Answers `{items, nextCursor}`." })
  @ApiZodParam('id', batchId)
  @ApiZodQuery(itemsQuery)
  @ApiOkResponse({ description: 'A page of items' })
  @ApiErrors(400, [404, 'No such batch'])
  items(@Param('id') id: string, @Query() query: unknown) {
    return this.batches.items(parseOrThrow(batchId, id, 'id'), parseOrThrow(itemsQuery, query, 'query'));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('finance')
  @ApiOperation({
    summary: 'Cancel a batch',
    description:
      'Stops a queued or running batch: workers finish the chunk in hand, the items not yet taken become `cancelled`. Cancelling again changes nothing.',
  })
  @ApiZodParam('id', batchId)
  @ApiOkResponse({ description: 'The batch, cancelled' })
  @ApiErrors(400, [404, 'No such batch'], [409, 'The batch has already completed or failed'])
  cancel(@Param('id') id: string, @Actor() actor: string) {
    return this.batches.cancel(parseOrThrow(batchId, id, 'id'), actor);
  }
}
