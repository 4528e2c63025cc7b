import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The figures of the core phases (BENCH_PHASES `core`): ingest to split roles. */
export interface CoreFigures {
  at: string;
  events: number;
  batch: number;
  eventsPerSecond: number;
  noticesPerSecond: number;
  rawQueueJobsPerSecond: number;
  rawSmtpPerSecond: number;
  ratio: number;
  batchDryRunCases: number;
  batchDryRunCasesPerSecond: number;
  batchRealRunCases: number;
  batchRealRunCasesPerSecond: number;
  /** CPU of the end-to-end phase per notice, by part (Redis backend), and of a bare send (client and sink together). */
  cpuPerNoticeServiceMs: number;
  cpuPerNoticePostgresMs: number;
  cpuPerNoticeRedisMs: number;
  cpuPerNoticeBenchMs: number;
  cpuPerNoticeMs: number;
  bareSmtpCpuPerSendMs: number;
  postgresCpuPerNoticeMs: number;
  /** The quality sweep over the end-to-end notices (QA_SCORING on, as by default). */
  qaScoredTouches: number;
  qaScoringPerSecond: number;
  qaScoringLagMs: number;
  peakRssMb: number;
  postgresNoticesPerSecond: number;
  rawPostgresQueueJobsPerSecond: number;
  postgresRatio: number;
  /** Which processes ran the service and the bench's own parts. */
  layout: string;
  lateSteps: number;
  stepLatenessP50Ms: number;
  stepLatenessP99Ms: number;
  stepLatenessMaxMs: number;
  bareTimerLatenessP99Ms: number;
  horizonSteps: number;
  horizonJobsAdded: number;
  redisBytesPerHorizonStep: number;
  apiBootRssMb: number;
  apiPeakRssMb: number;
  workerBootRssMb: number;
  workerPeakRssMb: number;
  splitNoticesPerSecond: number;
  loadAverageAtStart: number;
  loadAverageAtEnd: number;
  node: string;
  cpus: number;
}

/** BENCH_PHASES `planned-steps`: the reconciler's sweep over many pending rows. */
export interface PlannedStepsFigures {
  plannedStepsAt: string;
  plannedStepsInside: number;
  plannedStepsSmall: number;
  sweepMsSmall: number;
  sweepSqlMsSmall: number;
  plannedStepsLarge: number;
  sweepMsLarge: number;
  sweepSqlMsLarge: number;
  plannedStepsCopyRowsPerSecond: number;
  redisBytesPerQueuedJob: number;
  sweepPlanAtLarge: string;
  lockPlanAtLarge: string;
  claimPlanAtLarge: string;
}

/** BENCH_PHASES `scale-out`: the end-to-end flow with 1, 2 and 4 worker processes. */
export interface ScaleOutFigures {
  scaleOutAt: string;
  scaleOutEvents: number;
  scaleOutNoticesPerSecond1: number;
  scaleOutNoticesPerSecond2: number;
  scaleOutNoticesPerSecond4: number;
  scaleOutEfficiency2: number;
  scaleOutEfficiency4: number;
  scaleOutCpuPerNoticeMs1: number;
  scaleOutCpuPerNoticeMs2: number;
  scaleOutCpuPerNoticeMs4: number;
  scaleOutPostgresCpuPerNoticeMs1: number;
  postgresBytesPerCase: number;
  postgresRowsPerCase: number;
}

/** Figures of the phases not run this time are kept from the previous results (each group has its own time). */
export type BenchResult = CoreFigures & Partial<PlannedStepsFigures> & Partial<ScaleOutFigures>;

const LABELS: Record<keyof BenchResult, string> = {
  at: 'Run at',
  events: 'Events',
  batch: 'Events per request',
  eventsPerSecond: 'Ingest (events/s over HTTP)',
  noticesPerSecond: 'End to end (notices/s, first post to last message)',
  rawQueueJobsPerSecond: 'Bare BullMQ no-op jobs/s',
  rawSmtpPerSecond: 'Bare nodemailer pooled sends/s',
  ratio: 'Ratio (notices/s ÷ slower bare part)',
  batchDryRunCases: 'Batch dry run: cases',
  batchDryRunCasesPerSecond: 'Batch dry run (cases/s, request to completed)',
  batchRealRunCases: 'Batch real run: cases',
  batchRealRunCasesPerSecond: 'Batch real run (cases/s, request to completed)',
  cpuPerNoticeServiceMs: 'CPU per notice: the service processes (ms)',
  cpuPerNoticePostgresMs: 'CPU per notice: PostgreSQL backends (ms)',
  cpuPerNoticeRedisMs: 'CPU per notice: Redis (ms)',
  cpuPerNoticeBenchMs: 'CPU per notice: the bench process, HTTP client and SMTP sink (ms)',
  cpuPerNoticeMs: 'CPU per notice, all parts (ms)',
  bareSmtpCpuPerSendMs: 'CPU per bare send, client and sink (ms)',
  postgresCpuPerNoticeMs: 'PostgreSQL queues: CPU per notice, all parts (ms)',
  qaScoredTouches: 'Quality sweep: notices scored',
  qaScoringPerSecond: 'Quality sweep: touches scored/s (first to last score)',
  qaScoringLagMs: 'Quality sweep: last score after the last notice (ms)',
  postgresNoticesPerSecond: 'PostgreSQL queues: end to end (notices/s, no Redis)',
  rawPostgresQueueJobsPerSecond: 'PostgreSQL queues: bare BullMQ no-op jobs/s',
  postgresRatio: 'PostgreSQL queues: ratio (notices/s ÷ slower bare part)',
  peakRssMb: 'Peak RSS of the service, all its processes (MB)',
  layout: 'Process layout',
  lateSteps: 'Lateness: steps (due over 10 s)',
  stepLatenessP50Ms: 'Step lateness p50 (ms)',
  stepLatenessP99Ms: 'Step lateness p99 (ms; goal ≤ 150)',
  stepLatenessMaxMs: 'Step lateness max (ms)',
  bareTimerLatenessP99Ms: 'Bare BullMQ delayed-job lateness p99 (ms)',
  horizonSteps: 'Horizon: steps planned beyond it',
  horizonJobsAdded: 'Horizon: jobs those steps put in Redis',
  redisBytesPerHorizonStep: 'Redis bytes per step beyond the horizon (goal ≤ 100)',
  apiBootRssMb: 'APP_ROLE=api RSS after boot (MB)',
  apiPeakRssMb: 'APP_ROLE=api peak RSS (MB; goal ≤ 300)',
  workerBootRssMb: 'APP_ROLE=worker RSS after boot (MB)',
  workerPeakRssMb: 'APP_ROLE=worker peak RSS (MB; goal ≤ 300)',
  splitNoticesPerSecond: 'Split roles: end to end (notices/s)',
  loadAverageAtStart: 'Load average (1 min) at start',
  loadAverageAtEnd: 'Load average (1 min) at end',
  node: 'Node',
  cpus: 'CPUs',
  plannedStepsAt: 'Planned steps: run at',
  plannedStepsInside: 'Planned steps: rows inside SCHEDULE_HORIZON (the same at both sizes)',
  plannedStepsSmall: 'Planned steps: pending rows, smaller size',
  sweepMsSmall: 'Reconciler sweep at the smaller size (ms, median; SQL and Redis)',
  sweepSqlMsSmall: "Reconciler sweep's SQL at the smaller size (ms, median)",
  plannedStepsLarge: 'Planned steps: pending rows, larger size',
  sweepMsLarge: 'Reconciler sweep at the larger size (ms, median; SQL and Redis)',
  sweepSqlMsLarge: "Reconciler sweep's SQL at the larger size (ms, median)",
  plannedStepsCopyRowsPerSecond: 'Planned steps: COPY into scheduled_steps (rows/s, larger load)',
  redisBytesPerQueuedJob: 'Redis bytes per queued step job (delayed, as the reconciler adds it)',
  sweepPlanAtLarge: 'Sweep plan at the larger size (first page)',
  lockPlanAtLarge: 'Step lock plan at the larger size (one step)',
  claimPlanAtLarge: 'Notice claim plan at the larger size (gathered)',
  scaleOutAt: 'Scale-out: run at',
  scaleOutEvents: 'Scale-out: events per run',
  scaleOutNoticesPerSecond1: 'Scale-out, 1 worker process: end to end (notices/s)',
  scaleOutNoticesPerSecond2: 'Scale-out, 2 worker processes: end to end (notices/s)',
  scaleOutNoticesPerSecond4: 'Scale-out, 4 worker processes: end to end (notices/s)',
  scaleOutEfficiency2: 'Scale-out efficiency, 2 workers ((rate₂ ÷ rate₁) ÷ 2)',
  scaleOutEfficiency4: 'Scale-out efficiency, 4 workers ((rate₄ ÷ rate₁) ÷ 4)',
  scaleOutCpuPerNoticeMs1: 'Scale-out, 1 worker: CPU per notice, all parts (ms)',
  scaleOutCpuPerNoticeMs2: 'Scale-out, 2 workers: CPU per notice, all parts (ms)',
  scaleOutCpuPerNoticeMs4: 'Scale-out, 4 workers: CPU per notice, all parts (ms)',
  scaleOutPostgresCpuPerNoticeMs1: 'Scale-out, 1 worker: CPU per notice, PostgreSQL backends (ms)',
  postgresBytesPerCase: 'PostgreSQL bytes per case (all tables and indexes, one-notice policy)',
  postgresRowsPerCase: 'PostgreSQL rows per case (all tables, one-notice policy)',
};

export function markdownTable(result: BenchResult): string {
  const rows = (Object.keys(LABELS) as (keyof BenchResult)[]).map((key) => `| ${LABELS[key]} | ${result[key] ?? 'not measured yet'} |`);
  return ['| Figure | Value |', '| --- | --- |', ...rows].join('\n');
}

/** How each group of figures is measured, and in which process layout. */
function howMeasured(result: BenchResult): string[] {
  return [
    '## How they are measured',
    '',
    `- **Ingest, end to end, batches, peak RSS of the service**: ${result.layout}; the service's processes run \`node main.js\` with the ` +
      `production image's NODE_ENV and NODE_OPTIONS. Ingest is ${result.events} overdue events posted over HTTP, ${result.batch} per request, ` +
      '4 requests in flight, timed from the first post to the last 202; end to end runs to the last message the sink received; the RSS ' +
      "of the service's processes together is sampled every 200 ms from the start to the end of the batches.",
    `- **Ratio**: the full path (validation, case, steps, dispatch ledger, touches, template, SMTP) against the slower bare part ` +
      `(an empty BullMQ job or a bare pooled SMTP send of the same size, whichever is slower): ` +
      `${result.ratio} means the service delivers ${(result.ratio * 100).toFixed(1)}% of that floor's throughput.`,
    '- **CPU per notice**: user and system CPU from `/proc` over the end-to-end phase (first post to last message) of the service ' +
      "process and its worker processes, of the PostgreSQL backends connected to the bench database (not the server's background " +
      "writers), Redis's own `used_cpu_user` + `used_cpu_sys`, and the bench process (HTTP client, SMTP sink), each divided by the " +
      `notices. At ${result.cpuPerNoticeMs} ms a notice, ${result.cpus} cores carry at most ` +
      `${Math.floor((result.cpus * 1000) / result.cpuPerNoticeMs)} notices/s whatever the layout, a ratio of at most ` +
      `${((result.cpus * 1000) / result.cpuPerNoticeMs / result.rawSmtpPerSecond).toFixed(3)} against ${result.rawSmtpPerSecond} bare sends/s; ` +
      `a ratio of 0.5 needs ${((result.cpus * 1000) / (result.rawSmtpPerSecond / 2)).toFixed(2)} ms a notice or less.`,
    '- **Quality sweep**: QA scoring stays on (its default) through the end-to-end phase, so the figures above include it; once the ' +
      'notices are in, the bench waits until every `notice.sent` touch has its `qa_scores` row, and reports the rate of the scoring ' +
      'rounds and how long after the last notice the last score came (a round starts every QA_SCORING_EVERY).',
    `- **PostgreSQL queues**: the same events and layout again with \`QUEUE_BACKEND=postgres\` on a database of their own (no Redis), ` +
      'against bare BullMQ no-op jobs on its PostgreSQL backend and the same bare SMTP sends.',
    `- **Horizon**: in an application inside the bench process (APP_ROLE=all, \`createApp\`), on the same stores, cases opened over HTTP with a policy of ten daily notices (P1D…P10D, all beyond ` +
      `SCHEDULE_HORIZON), their steps copied by SQL to ${result.horizonSteps} pending rows, then a reconciler pass; Redis \`used_memory\` ` +
      'before and after, divided by the steps. The jobs count is what the steps queue holds afterwards, drained beforehand.',
    '- **Split roles (peak RSS per role, lateness)**: one `APP_ROLE=api` and one `APP_ROLE=worker` process of `node dist/main.js` with the ' +
      "production image's NODE_ENV and NODE_OPTIONS (Dockerfile), on a fresh database, driven by the bench process (HTTP client and SMTP sink). " +
      'RSS after boot is VmRSS once /health/ready answers; the peak is ' +
      `VmHWM from /proc, read before SIGTERM, after the same ${result.events} events were ingested and sent and the lateness load ran.`,
    `- **Step lateness**: ${result.lateSteps} cases posted to the API process ahead of time, each with one email notice whose due instants ` +
      'are spread evenly over 10 s; per step, when the worker claimed its dispatch (dispatches.created_at) minus its planned due instant. ' +
      'The bare BullMQ figure is the timer alone: as many no-op delayed jobs over the same 10 s, on the same Redis, at the same worker concurrency.',
    ...(hasPlannedSteps(result) ? plannedStepsMeasured(result) : []),
    ...(hasScaleOut(result) ? scaleOutMeasured(result) : []),
  ];
}

const hasPlannedSteps = (result: BenchResult): result is BenchResult & PlannedStepsFigures => result.plannedStepsAt !== undefined;
const hasScaleOut = (result: BenchResult): result is BenchResult & ScaleOutFigures => result.scaleOutAt !== undefined;

function plannedStepsMeasured(result: PlannedStepsFigures): string[] {
  return [
    `- **Planned steps** (run at ${result.plannedStepsAt}): an application inside the bench process (\`createApp\`, APP_ROLE=api, so no ` +
      'sweep or worker of its own) on a database of its own. One case opened over HTTP with the ten-daily-notices policy is copied by SQL ' +
      `into one case (debtor, invoice) per ten steps; the steps are loaded with \`COPY … FROM STDIN\`, ${result.plannedStepsInside} of them due ` +
      'one to five hours out (inside SCHEDULE_HORIZON, PT6H) and every other one a day to half a year out, then VACUUM ANALYZE. At ' +
      `${result.plannedStepsSmall} and then ${result.plannedStepsLarge} pending rows, five passes of the real \`Reconciler.reconcile()\` ` +
      "(its pages of 1000 and its addBulk to Redis; the first pass adds the jobs, the later ones find them there), and of the sweep's SQL " +
      'alone (the same page loop, no enqueue); medians. Goal: the time follows the rows inside the horizon, not all rows. The plans are ' +
      '`EXPLAIN (ANALYZE, BUFFERS)` at the larger size of the statements the repositories send, run in a transaction rolled back ' +
      '(`planned-steps-plans.md` beside this file). Redis bytes per job: `used_memory` after the first pass minus before, per job added.',
  ];
}

function scaleOutMeasured(result: ScaleOutFigures): string[] {
  return [
    `- **Scale-out** (run at ${result.scaleOutAt}): one \`APP_ROLE=api\` process and 1, 2 or 4 \`APP_ROLE=worker\` processes of ` +
      "`node dist/main.js` (the image's NODE_ENV and NODE_OPTIONS, WORKER_CONCURRENCY 32 each, DATABASE_POOL_SIZE 10 each so that five " +
      `processes fit the shared server's connections), on the same Redis and PostgreSQL, a new database for each count; ${result.scaleOutEvents} ` +
      'events posted to the API as in the end-to-end phase, timed from the first post to the last message the sink received. Efficiency ' +
      "is (rate with n ÷ rate with one) ÷ n: 1 when every added worker adds the first one's rate. CPU per notice is every part's, as above. " +
      "The API, the workers, PostgreSQL, Redis and the bench's client and sink share this machine's cores, so added workers contend for " +
      'them: the CPU per notice, not the rate, is what carries over to a larger machine. ' +
      "Bytes and rows per case: every table of the first run's database (pg_total_relation_size: heap, indexes, TOAST; dead rows " +
      'included, as the sends left them) once every notice is sent and scored, divided by its cases.',
  ];
}

/** The previous run's figures, whose groups a run of fewer phases keeps. */
export async function readResults(dir: string): Promise<BenchResult> {
  return JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as BenchResult;
}

export async function writeResults(dir: string, result: BenchResult): Promise<string> {
  const table = markdownTable(result);
  const markdown = ['# Benchmark: overdue events to sent notices', '', table, '', ...howMeasured(result), ''].join('\n');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(dir, 'latest.md'), markdown);
  return table;
}
