import { Injectable } from '@nestjs/common';
import type { WatermarkState } from '../domain/touch-watermark';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import { CLOSING_KINDS, CONTACT_KINDS, type DebtorContact, type ScoredKind, type TrailTouch } from '../domain/quality';

export const FINDING_STATUSES = ['open', 'appealed', 'confirmed', 'overturned'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** A touch to score, with what the rules need of its case and debtor. */
export interface Candidate {
  id: string;
  caseId: string;
  kind: ScoredKind;
  at: Date;
  actor: string;
  channel: string | null;
  data: Record<string, unknown>;
  debtorId: string;
  debtorName: string;
  timezone: string;
  country: string | null;
  unsubscribeToken: string;
  invoiceRef: string;
  contractRef: string | null;
  policy: string | null;
}

/** Every touch up to `watermark` is scored (see WatermarkState). */
export type ScoringState = WatermarkState;

export interface NewFinding {
  caseId: string;
  touchId: string;
  ruleId: string;
  autofail: boolean;
  detail: string;
}

export interface FindingView {
  id: string;
  caseId: string;
  touchId: string;
  touchKind: string;
  collector: string;
  ruleId: string;
  autofail: boolean;
  detail: string;
  status: FindingStatus;
  createdAt: Date;
  reviewedAt: Date | null;
  reviewer: string | null;
  reviewNote: string | null;
}

/** The case's touches the process rules read. */
const TRAIL_KINDS = ['contact.recorded', 'hold.placed', 'hold.released', 'promise.recorded', 'promise.kept', ...CLOSING_KINDS];

const CANDIDATE_COLUMNS = `t.id::text AS id, t.case_id AS "caseId", t.kind, t.at, t.actor, t.channel, t.data,
  c.debtor_id AS "debtorId", d.name AS "debtorName", d.timezone, d.unsubscribe_token AS "unsubscribeToken",
  CASE WHEN upper(trim(d.address->>'country')) ~ '^[A-Z]{2}$' THEN upper(trim(d.address->>'country')) END AS country,
  i.external_id AS "invoiceRef", i.contract_ref AS "contractRef", pv.key AS policy`;
const CANDIDATE_JOINS = `JOIN cases c ON c.id = t.case_id JOIN debtors d ON d.id = c.debtor_id JOIN invoices i ON i.id = c.invoice_id
  LEFT JOIN policy_versions pv ON pv.id = c.policy_version_id`;

const FINDING_VIEW = `SELECT f.id, f.case_id AS "caseId", f.touch_id::text AS "touchId", t.kind AS "touchKind", t.actor AS collector,
  f.rule_id AS "ruleId", f.autofail, f.detail, f.status, f.created_at AS "createdAt", f.reviewed_at AS "reviewedAt", f.reviewer,
  f.review_note AS "reviewNote"
  FROM qa_findings f JOIN touches t ON t.id = f.touch_id`;

/** Scores, findings and the scoring sweep's watermark. */
@Injectable()
export class QualityRepository extends SqlRepository {
  /**
   * The sweep's state. Read without a row lock: the sweep's advisory lock serialises its writers,
   * and the transaction must get its own id only after `contactCandidates` has read the sequence.
   */
  async state(tx: Tx): Promise<ScoringState> {
    const row = await this.row<ScoringState>(
      tx,
      `SELECT watermark::text AS watermark, pending_limit::text AS "pendingLimit", pending_xid::text AS "pendingXid" FROM qa_scoring_state`,
    );
    return row!;
  }

  /**
   * Unscored contacts after the watermark, in id order; in the same snapshot, whether every
   * transaction older than `pendingXid` has ended (`settled`: all of them are no longer open), and
   * the sequence's value. Then, in a statement of its own so that it comes after that read, this
   * transaction's id (`xid`): every transaction that took a touch id up to `sequence` has an id
   * below it, so once no transaction older than `xid` is open, every touch up to `sequence` is
   * committed or gone.
   */
  async contactCandidates(tx: Tx, state: ScoringState, limit: number): Promise<{ touches: Candidate[]; settled: boolean; sequence: string; xid: string }> {
    const row = await this.row<{ touches: Candidate[] | null; settled: boolean; sequence: string }>(
      tx,
      `SELECT (SELECT json_agg(x ORDER BY x.id::bigint) FROM (
           SELECT ${CANDIDATE_COLUMNS} FROM touches t ${CANDIDATE_JOINS}
           WHERE t.kind = ANY($2::text[]) AND t.id > $1::bigint AND NOT EXISTS (SELECT 1 FROM qa_scores s WHERE s.touch_id = t.id)
           ORDER BY t.id LIMIT $3) x) AS touches,
         pg_snapshot_xmin(pg_current_snapshot()) >= COALESCE($4::xid8, '0'::xid8) AS settled,
         (SELECT last_value FROM touches_id_seq)::text AS sequence`,
      [state.watermark, CONTACT_KINDS, limit, state.pendingXid],
    );
    const own = await this.row<{ xid: string }>(tx, 'SELECT pg_current_xact_id()::text AS xid');
    return { ...row!, touches: (row!.touches ?? []).map(withDate), xid: own!.xid };
  }

  /**
   * Unscored promises due after `after` (every promise due by then is judged) and on or before
   * `dueBy`, earliest first (the caller decides which are due on the debtor's calendar).
   */
  async promiseCandidates(tx: Tx, after: string | null, dueBy: string, limit: number): Promise<Candidate[]> {
    const rows = await this.rows<Candidate>(
      tx,
      `SELECT ${CANDIDATE_COLUMNS} FROM touches t ${CANDIDATE_JOINS}
       WHERE t.kind = 'promise.recorded' AND t.data->>'dueDate' > COALESCE($1, '') AND t.data->>'dueDate' <= $2
         AND NOT EXISTS (SELECT 1 FROM qa_scores s WHERE s.touch_id = t.id)
       ORDER BY t.data->>'dueDate', t.id LIMIT $3`,
      [after, dueBy, limit],
    );
    return rows.map(withDate);
  }

  /** The day up to which every promise is judged, or null before the first round. */
  async promisesThrough(tx: Tx): Promise<string | null> {
    const row = await this.row<{ through: string | null }>(tx, `SELECT to_char(promises_through, 'YYYY-MM-DD') AS through FROM qa_scoring_state`);
    return row!.through;
  }

  async savePromisesThrough(tx: Tx, day: string): Promise<void> {
    await this.run(tx, 'UPDATE qa_scoring_state SET promises_through = GREATEST(promises_through, $1::date)', [day]);
  }

  async saveState(tx: Tx, state: ScoringState): Promise<void> {
    await this.run(tx, 'UPDATE qa_scoring_state SET watermark = $1, pending_limit = $2, pending_xid = $3::xid8', [
      state.watermark,
      state.pendingLimit,
      state.pendingXid,
    ]);
  }

  /** The process rules' touches of each case, oldest first. */
  async trails(tx: Tx, caseIds: readonly string[]): Promise<Map<string, TrailTouch[]>> {
    const rows = await this.rows<TrailTouch & { caseId: string }>(
      tx,
      `SELECT id::text AS id, case_id AS "caseId", kind, at, data FROM touches WHERE case_id = ANY($1::uuid[]) AND kind = ANY($2::text[]) ORDER BY case_id, id`,
      [caseIds, TRAIL_KINDS],
    );
    const trails = new Map<string, TrailTouch[]>();
    for (const { caseId, ...touch } of rows) trails.set(caseId, [...(trails.get(caseId) ?? []), touch]);
    return trails;
  }

  /** Each debtor's outbound contacts since `since`: the service's sent messages and people's recorded contacts, on every case. */
  async debtorContacts(tx: Tx, debtorIds: readonly string[], since: Date): Promise<Map<string, DebtorContact[]>> {
    const rows = await this.rows<{ debtorId: string; ref: string; at: Date; channel: DebtorContact['channel'] }>(
      tx,
      `SELECT x.debtor_id AS "debtorId", x.id::text AS ref, x.created_at AS at, x.channel FROM dispatches x
       WHERE x.debtor_id = ANY($1::uuid[]) AND x.created_at > $2 AND x.status <> 'failed' AND x.channel IN ('email', 'sms')
       UNION ALL
       SELECT c.debtor_id, t.id::text, (t.data->>'startedAt')::timestamptz, t.data->>'channel' FROM touches t JOIN cases c ON c.id = t.case_id
       WHERE c.debtor_id = ANY($1::uuid[]) AND t.kind = 'contact.recorded' AND t.data->>'direction' = 'outbound' AND t.at > $2`,
      [debtorIds, since],
    );
    const contacts = new Map<string, DebtorContact[]>();
    for (const { debtorId, ...contact } of rows) contacts.set(debtorId, [...(contacts.get(debtorId) ?? []), { ...contact, at: new Date(contact.at) }]);
    return contacts;
  }

  /** Marks touches scored; false for one already scored (the caller then writes nothing for it). */
  async markScored(tx: Tx, scores: readonly { touchId: string; caseId: string; score: number; autofailed: boolean }[], at: Date): Promise<Set<string>> {
    if (scores.length === 0) return new Set();
    const rows = await this.rows<{ touch_id: string }>(
      tx,
      `INSERT INTO qa_scores (touch_id, case_id, score, autofailed, scored_at)
       SELECT * , $5::timestamptz FROM unnest($1::bigint[], $2::uuid[], $3::smallint[], $4::boolean[])
       ON CONFLICT (touch_id) DO NOTHING RETURNING touch_id::text`,
      [scores.map((s) => s.touchId), scores.map((s) => s.caseId), scores.map((s) => s.score), scores.map((s) => s.autofailed), at],
    );
    return new Set(rows.map((row) => row.touch_id));
  }

  async insertFindings(tx: Tx, findings: readonly NewFinding[], at: Date): Promise<void> {
    if (findings.length === 0) return;
    await this.run(
      tx,
      `INSERT INTO qa_findings (case_id, touch_id, rule_id, autofail, detail, created_at)
       SELECT *, $6::timestamptz FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::boolean[], $5::text[])
       ON CONFLICT (touch_id, rule_id) DO NOTHING`,
      [
        findings.map((f) => f.caseId),
        findings.map((f) => f.touchId),
        findings.map((f) => f.ruleId),
        findings.map((f) => f.autofail),
        findings.map((f) => f.detail),
        at,
      ],
    );
  }

  /** Findings, oldest first, filtered; keyset on (created_at, id). */
  async listFindings(filter: {
    status?: FindingStatus;
    ruleId?: string;
    collector?: string;
    caseId?: string;
    after?: { createdAt: string; id: string };
    limit: number;
  }): Promise<FindingView[]> {
    return this.rows<FindingView>(
      undefined,
      `${FINDING_VIEW}
       WHERE ($1::text IS NULL OR f.status = $1) AND ($2::text IS NULL OR f.rule_id = $2) AND ($3::text IS NULL OR t.actor = $3)
         AND ($4::uuid IS NULL OR f.case_id = $4) AND ($5::timestamptz IS NULL OR (f.created_at, f.id) > ($5::timestamptz, $6::uuid))
       ORDER BY f.created_at, f.id LIMIT $7`,
      [
        filter.status ?? null,
        filter.ruleId ?? null,
        filter.collector ?? null,
        filter.caseId ?? null,
        filter.after?.createdAt ?? null,
        filter.after?.id ?? null,
        filter.limit,
      ],
    );
  }

  async finding(tx: Tx | undefined, id: string): Promise<FindingView | undefined> {
    return this.row<FindingView>(tx, `${FINDING_VIEW} WHERE f.id = $1`, [id]);
  }

  async caseOfFinding(tx: Tx, id: string): Promise<string | undefined> {
    return (await this.row<{ case_id: string }>(tx, 'SELECT case_id FROM qa_findings WHERE id = $1', [id]))?.case_id;
  }

  /** Locks the finding (after its case, as every audit writer locks). */
  async lockFinding(tx: Tx, id: string): Promise<FindingView | undefined> {
    await this.run(tx, 'SELECT 1 FROM qa_findings WHERE id = $1 FOR UPDATE', [id]);
    return this.finding(tx, id);
  }

  async review(tx: Tx, id: string, status: FindingStatus, reviewer: string, note: string, at: Date): Promise<void> {
    await this.run(tx, 'UPDATE qa_findings SET status = $2, reviewer = $3, review_note = $4, reviewed_at = $5 WHERE id = $1', [id, status, reviewer, note, at]);
  }

  async appeal(tx: Tx, id: string): Promise<void> {
    await this.run(tx, "UPDATE qa_findings SET status = 'appealed' WHERE id = $1", [id]);
  }

  /** Locks the case (its audit chain's writer lock); false when there is no such case. */
  async lockCase(tx: Tx, caseId: string): Promise<boolean> {
    return (await this.row(tx, 'SELECT 1 FROM cases WHERE id = $1 FOR UPDATE', [caseId])) !== undefined;
  }

  async caseExists(caseId: string): Promise<boolean> {
    return (await this.row(undefined, 'SELECT 1 FROM cases WHERE id = $1', [caseId])) !== undefined;
  }

  /** A contact recorded on the case under `contactId`, if any. */
  async contact(tx: Tx, caseId: string, contactId: string): Promise<{ actor: string; data: Record<string, unknown> } | undefined> {
    return this.row(tx, `SELECT actor, data FROM touches WHERE case_id = $1 AND kind = 'contact.recorded' AND data->>'contactId' = $2`, [caseId, contactId]);
  }

  /** The case's recorded contacts, oldest first. */
  async contacts(caseId: string): Promise<{ id: string; at: Date; actor: string; data: Record<string, unknown> }[]> {
    return this.rows(undefined, `SELECT id::text AS id, at, actor, data FROM touches WHERE case_id = $1 AND kind = 'contact.recorded' ORDER BY id LIMIT 1000`, [
      caseId,
    ]);
  }
}

const withDate = (row: Candidate): Candidate => ({ ...row, at: new Date(row.at) });
