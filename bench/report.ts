import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface BenchResult {
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
};

export function markdownTable(result: BenchResult): string {
  const rows = (Object.keys(LABELS) as (keyof BenchResult)[]).map((key) => `| ${LABELS[key]} | ${result[key]} |`);
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
  ];
}

export async function writeResults(dir: string, result: BenchResult): Promise<string> {
  const table = markdownTable(result);
  const markdown = ['# Benchmark: overdue events to sent notices', '', table, '', ...howMeasured(result), ''].join('\n');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(dir, 'latest.md'), markdown);
  return table;
}
