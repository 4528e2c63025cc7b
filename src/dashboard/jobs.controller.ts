import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Actor } from '../common/auth/actor.decorator';
import { Roles } from '../common/auth/roles.decorator';
import { parseOrThrow } from '../common/zod-validation';
import { ApiErrors, ApiZodParam, ApiZodQuery } from '../docs/decorators';
import { QueueName } from '../jobs/job-names';
import { JOB_QUEUES } from './job-audit.service';
import { JOB_STATES, JobItem, OperatorJobs } from './jobs.service';

const queueName = z.enum(JOB_QUEUES, { error: `must be one of ${JOB_QUEUES.join(', ')}` });
/** The names of a queue's own Redis keys (prefix:queue:<name>): never a job, though they sit where jobs do. */
const QUEUE_KEYS = new Set([
  'wait',
  'paused',
  'meta',
  'id',
  'delayed',
  'active',
  'completed',
  'failed',
  'events',
  'stalled',
  'stalled-check',
  'limiter',
  'prioritized',
  'marker',
  'pc',
  'repeat',
  'de',
  'metrics',
]);
const jobId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$/, 'must be a job id: up to 200 letters, digits, - and _')
  .refine((id) => !QUEUE_KEYS.has(id), 'names one of the queue’s own keys, not a job');

export const listQuery = z.strictObject({
  queue: queueName.default(QueueName.Steps),
  state: z.enum(JOB_STATES, { error: `must be one of ${JOB_STATES.join(', ')}` }).default('failed'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional(),
});

/** design.md's `POST /v1/jobs/:id/retry`: the queue is `steps` unless `?queue=` names another. */
export const retryQuery = z.strictObject({ queue: queueName.default(QueueName.Steps) });

/** Jobs for people who prefer scripts to the dashboard (operator). */
@ApiTags('Jobs')
@ApiErrors(503)
@Controller('v1/jobs')
export class JobsController {
  constructor(private readonly jobs: OperatorJobs) {}

  /** `?queue=steps|webhooks` (steps), `state=failed|delayed|waiting|active|completed` (failed), `limit`, `cursor`. */
  @Get()
  @Roles('operator')
  @ApiOperation({
    summary: 'List jobs',
    description: 'Jobs of one queue (`steps` by default, or `webhooks`) in one state (`failed` by default), paged with `cursor`. Payloads carry ids only.',
  })
  @ApiZodQuery(listQuery)
  @ApiOkResponse({ description: 'A page of jobs' })
  @ApiErrors(400)
  list(@Query() query: unknown) {
    return this.jobs.list(parseOrThrow(listQuery, query, 'query'));
  }

  /** Retries a failed step job (or `?queue=webhooks`); the retry is a `job.retried` touch on the job's case. */
  @Post(':id/retry')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({
    summary: 'Retry a failed job',
    description: "Retries a failed job of the `steps` queue (or `?queue=webhooks`); the retry is a `job.retried` touch naming the operator, on the job's case.",
  })
  @ApiZodParam('id', jobId)
  @ApiZodQuery(retryQuery)
  @ApiOkResponse({ description: 'The job, queued again' })
  @ApiErrors(400, [404, 'No such job in that queue'], [409, 'The job is not failed'])
  retry(@Param('id') id: string, @Query() query: unknown, @Actor() actor: string): Promise<JobItem> {
    const { queue } = parseOrThrow(retryQuery, query, 'query');
    return this.jobs.retry(queue, parseOrThrow(jobId, id, 'id'), actor);
  }

  @Post(':queue/:id/retry')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Retry a failed job of a named queue', description: 'As `POST /v1/jobs/{id}/retry`, with the queue in the path.' })
  @ApiZodParam('queue', queueName)
  @ApiZodParam('id', jobId)
  @ApiOkResponse({ description: 'The job, queued again' })
  @ApiErrors(400, [404, 'No such job in that queue'], [409, 'The job is not failed'])
  retryIn(@Param('queue') queue: string, @Param('id') id: string, @Actor() actor: string): Promise<JobItem> {
    return this.jobs.retry(parseOrThrow(queueName, queue, 'queue'), parseOrThrow(jobId, id, 'id'), actor);
  }
}
