import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { DomainError, ValidationFailed } from '../common/errors';
import { ApiErrors, ApiZodBody } from '../docs/decorators';
import { Clock } from '../common/clock';
import { validateEvent } from './event-validation';
import { dataSchemas, envelopeSchema, EVENT_TYPES, MAX_EVENTS_PER_REQUEST } from '../domain/events';
import { EventResult, EventsService } from './events.service';

/**
 * The body as the OpenAPI document shows it, composed from the schemas validateEvent applies: one
 * event (the envelope, its `data` by `type`) or `{events: [...]}`. The handler checks the parts
 * itself, so that a bad event in a batch is rejected alone instead of failing the request.
 */
const documentedEvent = z.union(EVENT_TYPES.map((type) => envelopeSchema.extend({ type: z.literal(type), data: dataSchemas[type] }))).meta({ id: 'Event' });
export const eventsRequestBody = z.union([documentedEvent, z.strictObject({ events: z.array(documentedEvent).min(1).max(MAX_EVENTS_PER_REQUEST) })]);

/** The 202 answer, as documented. */
export const eventsResponse = z.object({
  results: z.array(
    z.object({
      id: z.string().nullable().meta({ description: 'The event id (null if the event had none)' }),
      status: z.enum(['accepted', 'duplicate', 'rejected']),
      caseId: z.uuid().optional(),
      error: z.string().optional().meta({ description: 'Why it was rejected: each field and reason' }),
      code: z
        .literal('internal')
        .optional()
        .meta({ description: 'The service failed on this event alone (logged, nothing changed); sending it again may succeed' }),
    }),
  ),
});
// Fails to compile if EventResult drifts from the documented result.
true satisfies EventResult extends z.output<typeof eventsResponse>['results'][number] ? true : never;

@ApiTags('Events')
@ApiErrors(503)
@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly clock: Clock,
  ) {}

  /**
   * One event, or `{events: [...]}` with up to 1000. Answers 202 with one result per event;
   * a lone event that fails validation is a 400 naming the field, one that
   * refers to nothing open (an unknown invoice) a 422.
   */
  @Post()
  @HttpCode(202)
  @Roles('ingest')
  @ApiOperation({
    summary: 'Ingest events',
    description:
      `One event, or \`{"events": [...]}\` with up to ${MAX_EVENTS_PER_REQUEST}. The event \`id\` is the idempotency key: a repeat is \`duplicate\` and changes nothing. ` +
      'In a batch each event is accepted or rejected on its own; a lone event that fails validation is a 400 naming the field, one that refers to nothing open a 422.',
  })
  @ApiZodBody(eventsRequestBody)
  @ApiAcceptedResponse({ description: 'One result per event, in order', standardSchema: eventsResponse })
  @ApiErrors(400, [422, 'A lone event that refers to nothing open (e.g. an unknown invoice)'])
  async post(@Body() body: unknown, @Actor() actor: string): Promise<{ results: EventResult[] }> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ValidationFailed([{ field: 'body', reason: 'must be one event object or {"events": [...]}' }]);
    }
    if ('events' in body) {
      const { events } = body;
      if (!Array.isArray(events) || events.length === 0) throw new ValidationFailed([{ field: 'events', reason: 'must be a non-empty array' }]);
      if (events.length > MAX_EVENTS_PER_REQUEST) {
        throw new ValidationFailed([{ field: 'events', reason: `at most ${MAX_EVENTS_PER_REQUEST} events per request, got ${events.length}` }]);
      }
      if (Object.keys(body).length > 1) throw new ValidationFailed([{ field: 'body', reason: 'only "events" is allowed beside a batch' }]);
      return { results: await this.events.ingest(events, actor) };
    }
    const checked = validateEvent(body, this.clock.now());
    if (!checked.ok) throw new ValidationFailed(checked.details);
    const results = await this.events.ingest([body], actor);
    const [result] = results;
    // A lone event the service failed on is the service's error (logged), not the client's.
    if (result?.code === 'internal') throw new Error(`event ${result.id} failed: ${result.error}`);
    if (result?.status === 'rejected') throw new DomainError('unprocessable', result.error!);
    return { results };
  }
}
