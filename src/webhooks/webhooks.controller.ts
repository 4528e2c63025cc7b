import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodBody, ApiZodParam, ApiZodQuery } from '../docs/decorators';
import { TOUCH_KINDS } from '../domain/touch-kinds';
import { SECRET_PATTERN } from './secret-box';
import { Webhooks } from './webhooks.service';

const endpointId = z.uuid('must be a webhook endpoint id (UUID)');
const deliveryId = z.uuid('must be a delivery id (UUID)');
const url = z.string().trim().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters');
const kinds = z
  .array(z.enum(TOUCH_KINDS, { error: 'must be touch kinds (see docs/audit.md), such as notice.sent' }))
  .min(1, 'must name at least one touch kind')
  .max(TOUCH_KINDS.length, `must have at most ${TOUCH_KINDS.length} kinds`);
const description = z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters');

export const endpointBody = z.strictObject({
  url,
  kinds,
  secret: z.string().regex(SECRET_PATTERN, 'must be whsec_ and the base64 of 24 to 64 bytes; leave it out to have one made').optional(),
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
  description: description.optional(),
});

export const endpointChange = z
  .strictObject({
    url: url.optional(),
    kinds: kinds.optional(),
    enabled: z.boolean({ error: 'must be true or false' }).optional(),
    description: description.nullable().optional(),
  })
  .refine((change) => Object.keys(change).length > 0, { message: 'must change at least one of url, kinds, enabled, description' });

const page = { cursor: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(500).default(50) };
export const endpointQuery = z.strictObject(page);
export const deliveryQuery = z.strictObject({ ...page, status: z.enum(['pending', 'delivered', 'failed']).optional() });

/** Outbound webhooks: admins subscribe endpoints to touch kinds and read and replay their deliveries. */
@ApiTags('Webhooks')
@ApiErrors(503)
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: Webhooks) {}

  @Post()
  @Roles()
  @ApiOperation({
    summary: 'Subscribe an endpoint',
    description:
      'Every touch of the given kinds written from now on is POSTed to `url`, signed by the Standard Webhooks scheme with `secret` (made here when left out). The answer shows the secret, this once; listings never do. Needs WEBHOOK_SECRETS_KEY. See docs/webhooks.md.',
  })
  @ApiZodBody(endpointBody)
  @ApiCreatedResponse({ description: 'The endpoint, with its secret' })
  @ApiErrors(400, [422, 'WEBHOOK_SECRETS_KEY is not set'])
  create(@Body() body: unknown, @Actor() actor: string) {
    return this.webhooks.create(parseOrThrow(endpointBody, body ?? {}, 'body'), actor);
  }

  @Get()
  @Roles()
  @ApiOperation({ summary: 'List endpoints', description: 'Oldest first, paged with `cursor`; `{items, nextCursor}`. Never the secrets.' })
  @ApiZodQuery(endpointQuery)
  @ApiOkResponse({ description: 'A page of endpoints' })
  @ApiErrors(400)
  list(@Query() query: unknown) {
    return this.webhooks.list(parseOrThrow(endpointQuery, query, 'query'));
  }

  @Get(':id')
  @Roles()
  @ApiOperation({ summary: 'One endpoint', description: 'With its failure count and, when disabled, when and why.' })
  @ApiZodParam('id', endpointId)
  @ApiOkResponse({ description: 'The endpoint' })
  @ApiErrors(400, [404, 'No such endpoint'])
  get(@Param('id') id: string) {
    return this.webhooks.get(parseOrThrow(endpointId, id, 'id'));
  }

  @Patch(':id')
  @Roles()
  @ApiOperation({
    summary: 'Change an endpoint',
    description: '`enabled: true` re-enables an endpoint that was disabled for failing (its count back to 0); `enabled: false` stops its deliveries.',
  })
  @ApiZodParam('id', endpointId)
  @ApiZodBody(endpointChange)
  @ApiOkResponse({ description: 'The endpoint' })
  @ApiErrors(400, [404, 'No such endpoint'])
  update(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const change = parseOrThrow(endpointChange, body ?? {}, 'body');
    return this.webhooks.update(parseOrThrow(endpointId, id, 'id'), change, actor);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @Roles()
  @ApiOperation({ summary: "Rotate an endpoint's secret", description: 'A new secret signs every attempt from now on; the answer shows it, this once.' })
  @ApiZodParam('id', endpointId)
  @ApiOkResponse({ description: 'The endpoint, with its new secret' })
  @ApiErrors(400, [404, 'No such endpoint'], [422, 'WEBHOOK_SECRETS_KEY is not set'])
  rotate(@Param('id') id: string, @Actor() actor: string) {
    return this.webhooks.rotate(parseOrThrow(endpointId, id, 'id'), actor);
  }

  @Get(':id/deliveries')
  @Roles()
  @ApiOperation({ summary: "An endpoint's deliveries", description: 'Newest first, paged with `cursor`, optionally of one `status`; `{items, nextCursor}`.' })
  @ApiZodParam('id', endpointId)
  @ApiZodQuery(deliveryQuery)
  @ApiOkResponse({ description: 'A page of deliveries' })
  @ApiErrors(400, [404, 'No such endpoint'])
  deliveries(@Param('id') id: string, @Query() query: unknown) {
    const parsed = parseOrThrow(deliveryQuery, query, 'query');
    return this.webhooks.deliveries(parseOrThrow(endpointId, id, 'id'), parsed);
  }

  @Get(':id/deliveries/:deliveryId')
  @Roles()
  @ApiOperation({
    summary: 'One delivery and its attempts',
    description: 'Each attempt: its number, when, the status code or the error, the duration, and at most 200 characters of the answer.',
  })
  @ApiZodParam('id', endpointId)
  @ApiZodParam('deliveryId', deliveryId)
  @ApiOkResponse({ description: 'The delivery with `log`, its attempts, oldest first' })
  @ApiErrors(400, [404, 'No such endpoint or delivery'])
  delivery(@Param('id') id: string, @Param('deliveryId') delivery: string) {
    return this.webhooks.delivery(parseOrThrow(endpointId, id, 'id'), parseOrThrow(deliveryId, delivery, 'deliveryId'));
  }

  @Post(':id/deliveries/:deliveryId/replay')
  @HttpCode(202)
  @Roles()
  @ApiOperation({
    summary: 'Replay a delivery',
    description:
      'Sends a delivered or failed delivery again, with the same webhook-id and a fresh signature, and a full set of retries. The endpoint must be enabled.',
  })
  @ApiZodParam('id', endpointId)
  @ApiZodParam('deliveryId', deliveryId)
  @ApiAcceptedResponse({ description: 'The delivery, pending again' })
  @ApiErrors(400, [404, 'No such endpoint or delivery'], [409, 'The endpoint is disabled, or the delivery is still pending'])
  replay(@Param('id') id: string, @Param('deliveryId') delivery: string, @Actor() actor: string) {
    return this.webhooks.replay(parseOrThrow(endpointId, id, 'id'), parseOrThrow(deliveryId, delivery, 'deliveryId'), actor);
  }
}
