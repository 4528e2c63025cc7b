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
  peakRssMb: number;
  /** Which processes ran the service and the bench's own parts. */
  layout: string;
  node: string;
  cpus: number;
}

const LABELS: Record<keyof BenchResult, string> = {
  at: 'Run at',
  events: 'Events',
  batch: 'Events per request',
  eventsPerSecond: 'Ingest (events/s, HTTP)',
  noticesPerSecond: 'End to end (notices/s, first post to last message)',
  rawQueueJobsPerSecond: 'Bare BullMQ no-op jobs/s',
  rawSmtpPerSecond: 'Bare nodemailer pooled sends/s',
  ratio: 'Ratio (notices/s ÷ slower bare part)',
  batchDryRunCases: 'Batch dry run: cases',
  batchDryRunCasesPerSecond: 'Batch dry run (cases/s, request to completed)',
  batchRealRunCases: 'Batch real run: cases',
  batchRealRunCasesPerSecond: 'Batch real run (cases/s, request to completed)',
  peakRssMb: 'Peak RSS (MB, all processes)',
  layout: 'Process layout',
  node: 'Node',
  cpus: 'CPUs',
};

export function markdownTable(result: BenchResult): string {
  const rows = (Object.keys(LABELS) as (keyof BenchResult)[]).map((key) => `| ${LABELS[key]} | ${result[key]} |`);
  return ['| Figure | Value |', '| --- | --- |', ...rows].join('\n');
}

export async function writeResults(dir: string, result: BenchResult): Promise<string> {
  const table = markdownTable(result);
  const markdown = [
    '# Benchmark: overdue events to sent notices',
    '',
    table,
    '',
    `The ratio is the full path (validation, case, steps, dispatch ledger, touches, template, SMTP) against the slower bare part ` +
      `(an empty BullMQ job or a bare pooled SMTP send of the same size, whichever is slower): ` +
      `${result.ratio} means the service delivers ${(result.ratio * 100).toFixed(1)}% of that floor's throughput.`,
    '',
  ].join('\n');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(dir, 'latest.md'), markdown);
  return table;
}
