import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import { attemptSql, contactSql, curedSql, messageDeliveredSql, messageSentSql, outreachSql, rightPartyContactSql } from '../domain/collection-figures';
import {
  type BucketMove,
  type CaseAges,
  DPD_BOUNDS,
  type FindingCounts,
  type FunnelFacts,
  IN_HOUSE,
  type KpiCounts,
  type KpiDimension,
  LEFT_BUCKETS,
  NO_KEY,
  PROMISE_KINDS,
  type QaDimension,
  type QaScoreSums,
  type RecoveredAtRate,
  type RollMonth,
} from './report.rules';

/** [from, to) as instants. */
export interface Window {
  from: Date;
  to: Date;
}

/**
 * Days past due of the case's invoice at an instant, counted as the ladder counts them (the
 * debtor's local day the debt fell due is day 1): an SQL expression over `i` and `d`.
 */
const dpdAt = (instant: string) => `days_past_due(${instant}, i.due_at, d.timezone)`;

/** The cohort (cases opened in [$1, $2)) with each case attribute a KPI can be split by; $3 are the DPD bounds. */
const COHORT = `SELECT c.id, c.currency, c.status, pv.key AS policy, COALESCE(c.segment, '${NO_KEY}') AS segment,
    COALESCE(ap.agency, '${IN_HOUSE}') AS agency, width_bucket(${dpdAt('c.opened_at')}, $3::int[])::text AS dpd
  FROM cases c
  JOIN invoices i ON i.id = c.invoice_id
  JOIN debtors d ON d.id = c.debtor_id
  JOIN policy_versions pv ON pv.id = c.policy_version_id
  LEFT JOIN agency_placements ap ON ap.case_id = c.id
  WHERE c.opened_at >= $1 AND c.opened_at < $2`;

/** The key a touch is counted under, for the splits by a touch's attribute; null for the case attributes. */
const TOUCH_KEYS: Record<KpiDimension, string> = {
  dpd: 'NULL',
  policy: 'NULL',
  segment: 'NULL',
  agency: 'NULL',
  channel: `COALESCE(t.channel, '${NO_KEY}')`,
  collector: 't.actor',
};

const QA_KEYS: Record<QaDimension, string> = {
  collector: "t.data->>'collector'",
  agency: "t.data->>'agency'",
  template: "t.data->>'template'",
  policy: "t.data->>'policy'",
  day: "to_char(t.at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
};

/** The reports' aggregates, all computed in the database: a report reads counts, never cases one by one. */
@Injectable()
export class ReportRepository extends SqlRepository {
  /**
   * KPI counts per key and currency. For a case attribute each cohort case counts under its own
   * key with all its attempts; for a touch attribute a case counts under every key that attempted it,
   * with that key's attempts only.
   */
  async kpiCounts(window: Window, by: KpiDimension): Promise<KpiCounts[]> {
    const byTouch = TOUCH_KEYS[by] !== 'NULL';
    const rows = await this.lagging<Omit<KpiCounts, 'recoveredMinor'> & { recoveredMinor: string }>(
      `WITH cohort AS (${COHORT}),
       outreach AS (
         SELECT t.case_id, ${TOUCH_KEYS[by]} AS key, count(*) FILTER (WHERE ${attemptSql('t')})::int AS attempts,
           count(*) FILTER (WHERE ${contactSql('t')})::int AS contacts,
           count(*) FILTER (WHERE ${rightPartyContactSql('t')})::int AS rpc,
           count(*) FILTER (WHERE ${messageSentSql('t')})::int AS sent,
           count(*) FILTER (WHERE ${messageDeliveredSql('t')})::int AS delivered
         FROM touches t JOIN cohort ON cohort.id = t.case_id
         WHERE ${by === 'collector' ? attemptSql('t') : outreachSql('t')}
         GROUP BY 1, 2
       ),
       promise AS (
         SELECT t.case_id, bool_or(t.kind = 'promise.recorded') AS promised,
           count(*) FILTER (WHERE t.kind = 'promise.kept')::int AS kept, count(*) FILTER (WHERE t.kind = 'promise.broken')::int AS broken
         FROM touches t JOIN cohort ON cohort.id = t.case_id
         WHERE t.kind = ANY($4::text[])
         GROUP BY 1
       ),
       paid AS (SELECT p.case_id, sum(p.amount_minor) AS minor FROM payments p JOIN cohort ON cohort.id = p.case_id GROUP BY 1),
       member AS (
         ${
           byTouch
             ? 'SELECT a.case_id AS id, a.key, a.attempts, a.contacts, a.rpc, a.sent, a.delivered FROM outreach a'
             : `SELECT cohort.id, cohort.${by} AS key, COALESCE(a.attempts, 0) AS attempts, COALESCE(a.contacts, 0) AS contacts,
                  COALESCE(a.rpc, 0) AS rpc, COALESCE(a.sent, 0) AS sent, COALESCE(a.delivered, 0) AS delivered
                FROM cohort LEFT JOIN outreach a ON a.case_id = cohort.id`
         }
       )
       SELECT m.key, c.currency, count(*)::int AS cases, sum(m.attempts)::int AS attempts, sum(m.contacts)::int AS contacts,
         sum(m.rpc)::int AS "rightPartyContacts", sum(m.sent)::int AS "messagesSent", sum(m.delivered)::int AS "messagesDelivered",
         count(*) FILTER (WHERE pr.promised)::int AS "promisedCases", COALESCE(sum(pr.kept), 0)::int AS "promisesKept",
         COALESCE(sum(pr.broken), 0)::int AS "promisesBroken", count(*) FILTER (WHERE ${curedSql('c')})::int AS cured,
         COALESCE(sum(pd.minor), 0)::text AS "recoveredMinor"
       FROM member m JOIN cohort c ON c.id = m.id
       LEFT JOIN promise pr ON pr.case_id = m.id
       LEFT JOIN paid pd ON pd.case_id = m.id
       GROUP BY m.key, c.currency
       ORDER BY m.key, c.currency`,
      [window.from, window.to, DPD_BOUNDS, PROMISE_KINDS],
    );
    return rows.map((row) => ({ ...row, recoveredMinor: BigInt(row.recoveredMinor) }));
  }

  /** Payments dated in the window on placed cases, at or after the placement, per agency, currency and rate. */
  async recoveredByAgency(window: Window): Promise<RecoveredAtRate[]> {
    const rows = await this.lagging<Omit<RecoveredAtRate, 'recoveredMinor'> & { recoveredMinor: string }>(
      `SELECT ap.agency, ap.currency, ap.commission_rate::text AS rate, count(DISTINCT ap.id)::int AS placements,
         COALESCE(sum(p.amount_minor), 0)::text AS "recoveredMinor"
       FROM agency_placements ap
       LEFT JOIN payments p ON p.case_id = ap.case_id AND p.paid_at >= ap.placed_at AND p.paid_at >= $1 AND p.paid_at < $2
       WHERE ap.placed_at < $2
       GROUP BY 1, 2, 3
       ORDER BY 1, 2, 3`,
      [window.from, window.to],
    );
    return rows.map((row) => ({ ...row, recoveredMinor: BigInt(row.recoveredMinor) }));
  }

  /** Cohort cases per policy by age in days (capped at `days`) and the day of their cure (capped at days + 1). */
  caseAges(window: Window, now: Date, days: number): Promise<CaseAges[]> {
    return this.lagging(
      `SELECT pv.key AS policy, LEAST(floor(extract(epoch FROM $3::timestamptz - c.opened_at) / 86400)::int, $4::int) AS "ageDays",
         CASE WHEN ${curedSql('c')} THEN LEAST(floor(extract(epoch FROM c.closed_at - c.opened_at) / 86400)::int, $4::int + 1) END AS "curedDay",
         count(*)::int AS cases
       FROM cases c JOIN policy_versions pv ON pv.id = c.policy_version_id
       WHERE c.opened_at >= $1 AND c.opened_at < $2
       GROUP BY 1, 2, 3`,
      [window.from, window.to, now, days],
    );
  }

  /** Open cases at each month's end by DPD bucket, and where each stood at the next month's end. */
  bucketMoves(months: readonly RollMonth[]): Promise<BucketMove[]> {
    return this.lagging(
      `SELECT m.month, width_bucket(${dpdAt('m.end_at')}, $4::int[]) AS "from",
         CASE WHEN c.closed_at < m.next_end THEN CASE WHEN ${curedSql('c')} THEN $5::int ELSE $6::int END
           ELSE width_bucket(${dpdAt('m.next_end')}, $4::int[]) END AS "to",
         count(*)::int AS cases
       FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS m(month, end_at, next_end)
       JOIN cases c ON c.opened_at < m.end_at AND (c.closed_at IS NULL OR c.closed_at >= m.end_at)
       JOIN invoices i ON i.id = c.invoice_id
       JOIN debtors d ON d.id = c.debtor_id
       GROUP BY 1, 2, 3`,
      [months.map((m) => m.month), months.map((m) => m.end), months.map((m) => m.nextEnd), DPD_BOUNDS, LEFT_BUCKETS.cured, LEFT_BUCKETS.closed],
    );
  }

  /** Cohort cases per combination of the funnel's facts (at most sixteen rows). */
  funnelFacts(window: Window): Promise<FunnelFacts[]> {
    return this.lagging(
      `WITH cohort AS (SELECT c.id, c.status FROM cases c WHERE c.opened_at >= $1 AND c.opened_at < $2),
       facts AS (
         SELECT t.case_id, bool_or(${contactSql('t')}) AS contacted, bool_or(t.kind = 'promise.recorded') AS promised, bool_or(t.kind = 'promise.kept') AS kept
         FROM touches t JOIN cohort ON cohort.id = t.case_id
         WHERE ${contactSql('t')} OR t.kind = ANY($3::text[])
         GROUP BY 1
       )
       SELECT COALESCE(f.contacted, false) AS contacted, COALESCE(f.promised, false) AS promised, COALESCE(f.kept, false) AS kept,
         ${curedSql('c')} AS paid, count(*)::int AS cases
       FROM cohort c LEFT JOIN facts f ON f.case_id = c.id
       GROUP BY 1, 2, 3, 4`,
      [window.from, window.to, PROMISE_KINDS],
    );
  }

  /** qa.scored touches in the window per key and UTC day; a malformed score or list counts as none. */
  async qaScoreSums(window: Window, by: QaDimension): Promise<QaScoreSums[]> {
    const rows = await this.lagging<Omit<QaScoreSums, 'scoreSum'> & { scoreSum: string | null }>(
      `SELECT ${QA_KEYS[by]} AS key, to_char(t.at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
         count(*) FILTER (WHERE jsonb_typeof(t.data->'score') = 'number')::int AS scored,
         sum((t.data->>'score')::numeric) FILTER (WHERE jsonb_typeof(t.data->'score') = 'number')::text AS "scoreSum",
         count(*) FILTER (WHERE jsonb_typeof(t.data->'failed') = 'array' AND jsonb_array_length(t.data->'failed') > 0)::int AS failed,
         count(*) FILTER (WHERE t.data->'autofailed' = 'true'::jsonb)::int AS autofailed
       FROM touches t
       WHERE t.kind = 'qa.scored' AND t.at >= $1 AND t.at < $2
       GROUP BY 1, 2
       ORDER BY 2, 1`,
      [window.from, window.to],
    );
    return rows.map((row) => ({ ...row, scoreSum: Number(row.scoreSum ?? 0) }));
  }

  /** Findings created in the window per rule and review status. */
  findingCounts(window: Window): Promise<FindingCounts[]> {
    return this.lagging(
      `SELECT rule_id AS "ruleId", count(*)::int AS findings,
         count(*) FILTER (WHERE status = 'open')::int AS open, count(*) FILTER (WHERE status = 'appealed')::int AS appealed,
         count(*) FILTER (WHERE status = 'confirmed')::int AS confirmed, count(*) FILTER (WHERE status = 'overturned')::int AS overturned
       FROM qa_findings
       WHERE created_at >= $1 AND created_at < $2
       GROUP BY 1
       ORDER BY 1`,
      [window.from, window.to],
    );
  }
}
