import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodBody, ApiZodParam, ApiZodQuery } from '../docs/decorators';
import { CONTACT_CHANNELS, CONTACT_DIRECTIONS, CONTACT_OUTCOMES, CONTACT_PARTIES } from '../domain/quality';
import { Contacts } from './contacts.service';
import { Findings } from './findings.service';
import { FINDING_STATUSES } from './quality.repository';

const caseId = z.uuid('must be a case id (UUID)');
const findingId = z.uuid('must be a finding id (UUID)');
const oneOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(', ')}` });
const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

export const contactBody = z
  .strictObject({
    contactId: z.uuid('must be a UUID').optional(),
    channel: oneOf(CONTACT_CHANNELS),
    direction: oneOf(CONTACT_DIRECTIONS),
    party: oneOf(CONTACT_PARTIES),
    relation: name.optional(),
    outcome: oneOf(CONTACT_OUTCOMES),
    startedAt: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 instant such as 2026-12-01T09:30:00+08:00' }),
    durationSeconds: z.number().int('must be a whole number of seconds').min(0, 'must not be negative').max(86_400, 'must be at most a day (86400)'),
    notes: text(10_000),
    transcript: text(200_000).optional(),
    recordingRef: name.optional(),
    agency: name.optional(),
  })
  .superRefine((body, ctx) => {
    // Who a third party is decides whether the contact was allowed.
    if (body.party === 'third-party' && !body.relation)
      ctx.addIssue({ code: 'custom', path: ['relation'], message: 'is required when the party is third-party' });
  });

export const findingQuery = z.strictObject({
  status: oneOf(FINDING_STATUSES).optional(),
  rule: z.string().min(1).max(63).optional(),
  collector: name.optional(),
  caseId: caseId.optional(),
  cursor: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const note = z.string().trim().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters');
export const reviewBody = z.strictObject({ decision: oneOf(['confirm', 'overturn'] as const), note });
export const appealBody = z.strictObject({ note });

/** People's contacts on a case (collectors, operators). */
@ApiTags('Contacts')
@ApiErrors(503)
@Controller('v1/cases')
export class ContactsController {
  constructor(private readonly contacts: Contacts) {}

  @Post(':id/contacts')
  @Roles('collector', 'operator')
  @ApiOperation({
    summary: 'Record a contact',
    description:
      'A call, visit, chat, email or letter by a person, after it happened: a `contact.recorded` touch. The rules (hours, caps, holds, parties, wording, records) are checked afterwards by quality scoring: a breach is a finding, never a refusal. With a `contactId` of your own, the same report again changes nothing.',
  })
  @ApiZodParam('id', caseId)
  @ApiZodBody(contactBody)
  @ApiCreatedResponse({ description: 'The contact recorded' })
  @ApiErrors(400, [404, 'No such case'], [409, 'The contactId is already recorded on the case with other details'])
  record(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const report = parseOrThrow(contactBody, body ?? {}, 'body');
    return this.contacts.record(parseOrThrow(caseId, id, 'id'), report, actor);
  }

  @Get(':id/contacts')
  @Roles('collector', 'operator', 'qa', 'auditor')
  @ApiOperation({ summary: "A case's recorded contacts", description: 'Oldest first, each with its touch id and collector. Answers `{items}`.' })
  @ApiZodParam('id', caseId)
  @ApiOkResponse({ description: "The case's contacts" })
  @ApiErrors(400, [404, 'No such case'])
  list(@Param('id') id: string) {
    return this.contacts.list(parseOrThrow(caseId, id, 'id'));
  }
}

/** The QA review queue (qa, auditor). */
@ApiTags('Quality inspection')
@ApiErrors(503)
@Controller('v1/qa/findings')
export class FindingsController {
  constructor(private readonly findings: Findings) {}

  @Get()
  @Roles('qa', 'auditor')
  @ApiOperation({
    summary: 'List findings',
    description:
      'Oldest first, filtered by status, rule, collector (the actor of the scored touch) or case; paged with `cursor`. Answers `{items, nextCursor}`.',
  })
  @ApiZodQuery(findingQuery)
  @ApiOkResponse({ description: 'A page of findings' })
  @ApiErrors(400)
  list(@Query() query: unknown) {
    return this.findings.list(parseOrThrow(findingQuery, query, 'query'));
  }

  @Get(':id')
  @Roles('qa', 'auditor')
  @ApiOperation({ summary: 'One finding', description: 'The finding with its rule, the scored touch, its collector and its review.' })
  @ApiZodParam('id', findingId)
  @ApiOkResponse({ description: 'The finding' })
  @ApiErrors(400, [404, 'No such finding'])
  get(@Param('id') id: string) {
    return this.findings.get(parseOrThrow(findingId, id, 'id'));
  }

  @Post(':id/review')
  @HttpCode(200)
  @Roles('qa')
  @ApiOperation({
    summary: 'Review a finding',
    description: 'Confirm or overturn an open or appealed finding, with a note: a `qa.finding.reviewed` touch. A finding is reviewed once.',
  })
  @ApiZodParam('id', findingId)
  @ApiZodBody(reviewBody)
  @ApiOkResponse({ description: 'The finding, reviewed' })
  @ApiErrors(400, [404, 'No such finding'], [409, 'The finding is already confirmed or overturned'])
  review(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { decision, note: why } = parseOrThrow(reviewBody, body ?? {}, 'body');
    return this.findings.review(parseOrThrow(findingId, id, 'id'), decision, why, actor);
  }

  @Post(':id/appeal')
  @HttpCode(200)
  @Roles('collector')
  @ApiOperation({
    summary: 'Appeal a finding',
    description: 'The collector whose contact it is appeals an open finding, with a note: a `qa.finding.appealed` touch; an inspector then reviews it.',
  })
  @ApiZodParam('id', findingId)
  @ApiZodBody(appealBody)
  @ApiOkResponse({ description: 'The finding, appealed' })
  @ApiErrors(400, [404, 'No such finding'], [409, "The finding is not open, or not on the caller's contact"])
  appeal(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { note: why } = parseOrThrow(appealBody, body ?? {}, 'body');
    return this.findings.appeal(parseOrThrow(findingId, id, 'id'), why, actor);
  }
}
