import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { DomainError, ValidationFailed } from '../common/errors';
import { validateEvent } from './event-validation';
import { MAX_EVENTS_PER_REQUEST } from './event.schemas';
import { EventResult, EventsService } from './events.service';

@Controller('v1/events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  /**
   * One event, or `{events: [...]}` with up to 1000. Answers 202 with one result per event;
   * a lone event that fails validation is a 400 naming the field, one that
   * refers to nothing open (an unknown invoice) a 422.
   */
  @Post()
  @HttpCode(202)
  @Roles('ingest')
  async post(@Body() body: unknown, @Actor() actor: string): Promise<{ results: EventResult[] }> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ValidationFailed([{ field: 'body', reason: 'must be one event object or {"events": [...]}' }]);
    }
    if ('events' in body) {
      const { events } = body as { events: unknown };
      if (!Array.isArray(events) || events.length === 0) throw new ValidationFailed([{ field: 'events', reason: 'must be a non-empty array' }]);
      if (events.length > MAX_EVENTS_PER_REQUEST) {
        throw new ValidationFailed([{ field: 'events', reason: `at most ${MAX_EVENTS_PER_REQUEST} events per request, got ${events.length}` }]);
      }
      if (Object.keys(body).length > 1) throw new ValidationFailed([{ field: 'body', reason: 'only "events" is allowed beside a batch' }]);
      return { results: await this.events.ingest(events, actor) };
    }
    const checked = validateEvent(body);
    if (!checked.ok) throw new ValidationFailed(checked.details);
    const results = await this.events.ingest([body], actor);
    if (results[0].status === 'rejected') throw new DomainError('unprocessable', results[0].error!);
    return { results };
  }
}
