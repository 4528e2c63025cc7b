import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodBody, ApiZodParam, ApiZodQuery } from '../docs/decorators';
import { ExperimentReports } from './experiment-reports.service';
import { DEFAULT_CURE_WITHIN, horizonProblem } from './experiment.rules';
import { Experiments } from './experiments.service';

const experimentId = z.uuid('must be an experiment id (UUID)');
const policyKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a policy key (kebab-case)')
  .max(100, 'must be at most 100 characters');
const note = z.string().trim().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters');

export const experimentBody = z
  .strictObject({
    name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    champion: policyKey,
    challenger: policyKey,
    challengerShare: z.number({ error: 'must be a number' }).gt(0, 'must be above 0').lt(1, 'must be below 1'),
    segment: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional(),
    minSample: z.number().int('must be a whole number').min(10, 'must be at least 10').max(1_000_000, 'must be at most 1000000').default(100),
    cureWithin: z
      .string()
      .max(40, 'must be at most 40 characters')
      .default(DEFAULT_CURE_WITHIN)
      .superRefine((value, ctx) => {
        const problem = horizonProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    note: note.optional(),
  })
  .refine((body) => body.challenger !== body.champion, { path: ['challenger'], message: 'must differ from the champion' });

export const endBody = z.strictObject({ note });
export const experimentQuery = z.strictObject({ cursor: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(500).default(50) });

/** Champion/challenger policy experiments: admins run them; finance and audit read them. */
@ApiTags('Experiments')
@ApiErrors(503)
@Controller('v1/experiments')
export class ExperimentsController {
  constructor(
    private readonly experiments: Experiments,
    private readonly reports: ExperimentReports,
  ) {}

  @Post()
  @Roles()
  @ApiOperation({
    summary: 'Start an experiment',
    description:
      "Splits the new cases that would get the champion policy between champion and challenger, by a hash of the debtor, the challenger taking `challengerShare`; `segment` limits it to that segment's cases. `cureWithin` (ISO-8601, default P60D) is the fixed horizon: a debtor counts in the test once their first case in the experiment is that old, cured if it was paid within it; `minSample` is the debtors per arm past the horizon before the report names a winner.",
  })
  @ApiZodBody(experimentBody)
  @ApiCreatedResponse({ description: 'The experiment, running, with its record of actions' })
  @ApiErrors(400, [409, 'The champion has a running experiment, or a promotion replaced it'])
  start(@Body() body: unknown, @Actor() actor: string) {
    return this.experiments.start(parseOrThrow(experimentBody, body ?? {}, 'body'), actor);
  }

  @Get()
  @Roles('auditor', 'finance')
  @ApiOperation({ summary: 'List experiments', description: 'Newest first, paged with `cursor`. Answers `{items, nextCursor}`.' })
  @ApiZodQuery(experimentQuery)
  @ApiOkResponse({ description: 'A page of experiments' })
  @ApiErrors(400)
  list(@Query() query: unknown) {
    return this.experiments.list(parseOrThrow(experimentQuery, query, 'query'));
  }

  @Get(':id')
  @Roles('auditor', 'finance')
  @ApiOperation({ summary: 'One experiment', description: 'The experiment and its record of admin actions (who, when, what, the note), oldest first.' })
  @ApiZodParam('id', experimentId)
  @ApiOkResponse({ description: 'The experiment' })
  @ApiErrors(400, [404, 'No such experiment'])
  get(@Param('id') id: string) {
    return this.experiments.detail(parseOrThrow(experimentId, id, 'id'));
  }

  @Get(':id/report')
  @Roles('auditor', 'finance')
  @ApiOperation({
    summary: "The experiment's report",
    description:
      "Per arm: cases, cured cases and cure rate, amount recovered per currency, people's contacts and the service's messages, contacts per cure and QA findings (not overturned); the test's `sample`: debtors counted once by their first case, past the horizon, cured within it; `sampleComplete`; the two-proportion z-test of the debtors' cure rates with a 95 % interval of the difference; and a verdict that names no winner before the sample is complete.",
  })
  @ApiZodParam('id', experimentId)
  @ApiOkResponse({ description: 'The report' })
  @ApiErrors(400, [404, 'No such experiment'])
  report(@Param('id') id: string) {
    return this.reports.report(parseOrThrow(experimentId, id, 'id'));
  }

  @Post(':id/stop')
  @HttpCode(200)
  @Roles()
  @ApiOperation({
    summary: 'Stop an experiment',
    description:
      "New cases get the champion again; cases opened in it keep their arm and policy. Recorded with the note and the report's verdict at that moment (`verdictAtAction`).",
  })
  @ApiZodParam('id', experimentId)
  @ApiZodBody(endBody)
  @ApiOkResponse({ description: 'The experiment, stopped' })
  @ApiErrors(400, [404, 'No such experiment'], [409, 'The experiment is not running'])
  stop(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { note } = parseOrThrow(endBody, body ?? {}, 'body');
    return this.experiments.stop(parseOrThrow(experimentId, id, 'id'), note, actor);
  }

  @Post(':id/promote')
  @HttpCode(200)
  @Roles()
  @ApiOperation({
    summary: 'Promote the challenger',
    description:
      "Ends the experiment with the challenger in force: new cases that the policy files give the champion (by segment or default) get the challenger instead. Cases opened before keep their arm and policy. Recorded with the note and the report's verdict at that moment (`verdictAtAction`).",
  })
  @ApiZodParam('id', experimentId)
  @ApiZodBody(endBody)
  @ApiOkResponse({ description: 'The experiment, promoted' })
  @ApiErrors(400, [404, 'No such experiment'], [409, 'The experiment is not running'])
  promote(@Param('id') id: string, @Body() body: unknown, @Actor() actor: string) {
    const { note } = parseOrThrow(endBody, body ?? {}, 'body');
    return this.experiments.promote(parseOrThrow(experimentId, id, 'id'), note, actor);
  }
}
