import { DateTime } from 'luxon';

/**
 * The evidence tables partitioned by month (UTC) on their own time column: which partitions
 * exist ahead of time, and which are past their retention. Pure: the SQL is in the repository.
 */
export const EVIDENCE_TABLES = ['touches', 'dispatches'] as const;
export type EvidenceTable = (typeof EVIDENCE_TABLES)[number];

/** Touches are append-only: each of their partitions gets a TRUNCATE trigger of its own. */
export const APPEND_ONLY = { touches: true, dispatches: false } as const satisfies Record<EvidenceTable, boolean>;

/** The setting that holds each table's retention. */
export const RETENTION_SETTING = { touches: 'RETENTION_TOUCHES', dispatches: 'RETENTION_DISPATCHES' } as const satisfies Record<EvidenceTable, string>;

/** One month of a table: rows with time in [from, to). */
export interface MonthPartition {
  table: EvidenceTable;
  name: string;
  from: Date;
  to: Date;
}

const utcMonth = (at: Date) => DateTime.fromJSDate(at, { zone: 'utc' }).startOf('month');

/** The partition of `table` that holds the instant `at`: named `<table>_YYYY_MM`. */
export function monthPartition(table: EvidenceTable, at: Date): MonthPartition {
  const month = utcMonth(at);
  return { table, name: `${table}_${month.toFormat('yyyy_MM')}`, from: month.toJSDate(), to: month.plus({ months: 1 }).toJSDate() };
}

/** This month's partition and the `ahead` months' after it: what the partitions sweep keeps in place. */
export function partitionsAhead(table: EvidenceTable, now: Date, ahead: number): MonthPartition[] {
  const month = utcMonth(now);
  return Array.from({ length: ahead + 1 }, (_, index) => monthPartition(table, month.plus({ months: index }).toJSDate()));
}

/** The month partition a name stands for; undefined for the default partition or any other table. */
export function parseMonthPartition(table: EvidenceTable, name: string): MonthPartition | undefined {
  const match = new RegExp(`^${table}_(\\d{4})_(\\d{2})$`).exec(name);
  if (!match) return undefined;
  const month = DateTime.utc(Number(match[1]), Number(match[2]), 1);
  return month.isValid ? monthPartition(table, month.toJSDate()) : undefined;
}

/** The partitions wholly before `cutoff` (a partition the cut-off falls in is kept), oldest first. */
export function partitionsBefore(partitions: readonly MonthPartition[], cutoff: Date): MonthPartition[] {
  return partitions.filter((partition) => partition.to.getTime() <= cutoff.getTime()).sort((a, b) => a.from.getTime() - b.from.getTime());
}

/** A retention: `keep` (forever) or a period of whole years and months (P5Y, P66M, P6Y6M). */
export type Retention = string;

/** The months of a period of years and months; undefined for anything else (days, weeks, times, zero). */
export function periodMonths(period: string): number | undefined {
  const match = /^P(?:(\d+)Y)?(?:(\d+)M)?$/.exec(period);
  if (!match || (!match[1] && !match[2])) return undefined;
  const months = Number(match[1] ?? 0) * 12 + Number(match[2] ?? 0);
  return months > 0 ? months : undefined;
}

/** The earliest instant a retention keeps, as of now: now minus the period (UTC calendar). */
export function retentionCutoff(now: Date, period: string): Date {
  return DateTime.fromJSDate(now, { zone: 'utc' })
    .minus({ months: periodMonths(period) ?? 0 })
    .toJSDate();
}

export interface RetentionRequest {
  table: EvidenceTable;
  now: Date;
  retention: Retention;
  legalMinimum: string;
  /** The operator's cut-off, earlier than the retention's own; default: the retention's. */
  before?: Date;
}

export type RetentionDecision = { cutoff: Date } | { refused: { field: 'table' | 'before'; reason: string } };

/**
 * The cut-off of a retention run: the table's retention, or the operator's earlier `before`.
 * Refused when the table is kept forever, or when the run would keep less than the legal minimum
 * or the table's retention.
 */
export function retentionDecision(request: RetentionRequest): RetentionDecision {
  const setting = RETENTION_SETTING[request.table];
  if (request.retention === 'keep') return { refused: { field: 'table', reason: `${setting} is keep: ${request.table} are kept forever` } };
  const legal = retentionCutoff(request.now, request.legalMinimum);
  const own = retentionCutoff(request.now, request.retention);
  const cutoff = request.before ?? own;
  if (cutoff > legal) {
    return {
      refused: {
        field: 'before',
        reason: `keeps less than the legal minimum ${request.legalMinimum} (RETENTION_LEGAL_MINIMUM): must be on or before ${legal.toISOString()}`,
      },
    };
  }
  if (cutoff > own)
    return { refused: { field: 'before', reason: `keeps less than ${setting} (${request.retention}): must be on or before ${own.toISOString()}` } };
  return { cutoff };
}

/** Why a retention setting cannot stand next to the legal minimum, or undefined when it can. */
export function retentionProblem(retention: Retention, legalMinimum: string): string | undefined {
  if (retention === 'keep') return undefined;
  const months = periodMonths(retention);
  const minimum = periodMonths(legalMinimum);
  if (months === undefined) return `must be keep or a period of years and months such as P6Y, got "${retention}"`;
  if (minimum !== undefined && months < minimum) return `${retention} keeps less than the legal minimum ${legalMinimum} (RETENTION_LEGAL_MINIMUM)`;
  return undefined;
}
