import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { parseOrThrow } from '../common/zod-validation';
import { batchRequest, idempotencyKey, ITEM_STATUSES } from './batch.schemas';
import { Batches } from './batches.service';

const batchId = z.uuid('must be a batch id (UUID)');
const itemsQuery = z.strictObject({
  status: z.enum(ITEM_STATUSES, { error: `must be one of ${ITEM_STATUSES.join(', ')}` }).optional(),
  cursor: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

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
  async create(@Headers('idempotency-key') key: unknown, @Body() body: unknown, @Actor() actor: string) {
    const idempotent = parseOrThrow(idempotencyKey, key, 'header.Idempotency-Key');
    return (await this.batches.create(idempotent, parseOrThrow(batchRequest, body ?? {}, 'body'), actor)).batch;
  }

  @Get(':id')
  @Roles('finance', 'operator', 'auditor')
  get(@Param('id') id: string) {
    return this.batches.get(parseOrThrow(batchId, id, 'id'));
  }

  @Get(':id/items')
  @Roles('finance', 'operator', 'auditor')
  items(@Param('id') id: string, @Query() query: unknown) {
    return this.batches.items(parseOrThrow(batchId, id, 'id'), parseOrThrow(itemsQuery, query, 'query'));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('finance')
  cancel(@Param('id') id: string, @Actor() actor: string) {
    return this.batches.cancel(parseOrThrow(batchId, id, 'id'), actor);
  }
}
