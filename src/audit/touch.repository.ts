import { Injectable } from '@nestjs/common';
import { Gather } from '../database/gather';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import { LEGAL_TOUCH_KINDS, type LegalTouch } from '../domain/legal-record';
import type { DueStep } from '../domain/step';
import type { ChainedRow, ChainedTouch, ChainHead, SealHead } from '../domain/touch-chain';

/** A touch as stored, and as the API and the export show it. */
export interface StoredTouch extends ChainedTouch {
  id: string;
  data: Record<string, unknown>;
  hash: string;
}

export interface StoredSeal {
  id: string;
  heads: SealHead[];
  prevHash: string;
  hash: string;
}

/** What the hot path's append attests: the sent dispatch and its done step. */
export interface NoticeSent {
  dispatchId: string;
  stepId: string;
  at: Date;
  providerMessageId: string | null;
}

/** One sent notice's record: its touches onto the head read at claim time. */
interface HeadSwap {
  caseId: string;
  expected: ChainHead;
  rows: readonly ChainedRow[];
  head: ChainHead;
  sent: NoticeSent;
}

const TOUCH_COLUMNS = `id, case_id AS "caseId", seq, kind, at, actor, channel, data, prev_hash AS "prevHash", hash`;

/** Takes the nine columns of `touchColumns` as $1…$9. */
const INSERT_TOUCHES = `INSERT INTO touches (case_id, seq, kind, at, actor, channel, data, prev_hash, hash)
  SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::jsonb[], $8::text[], $9::text[])`;

function touchColumns(rows: readonly ChainedRow[]): unknown[] {
  return [
    rows.map((row) => row.caseId),
    rows.map((row) => row.seq),
    rows.map((row) => row.kind),
    rows.map((row) => row.at),
    rows.map((row) => row.actor),
    rows.map((row) => row.channel),
    rows.map((row) => JSON.stringify(row.data)),
    rows.map((row) => row.prevHash),
    rows.map((row) => row.hash),
  ];
}

const asHead = (row: { touch_seq: number; touch_hash: string }): ChainHead => ({ seq: row.touch_seq, hash: row.touch_hash });

/**
 * Touches (append-only: the database refuses UPDATE and DELETE), the chain heads on the case rows,
 * and the seals over them. A case row is its chain's writer lock.
 */
@Injectable()
export class TouchRepository extends SqlRepository {
  /** Locks the case row and reads its chain head; undefined when there is no such case. */
  async lockHead(tx: Tx, caseId: string): Promise<ChainHead | undefined> {
    const row = await this.row<{ touch_seq: number; touch_hash: string }>(tx, 'SELECT touch_seq, touch_hash FROM cases WHERE id = $1 FOR UPDATE', [caseId]);
    return row && asHead(row);
  }

  /** Locks the case rows in id order and reads their heads. */
  async lockHeads(tx: Tx, caseIds: readonly string[]): Promise<Map<string, ChainHead>> {
    const rows = await this.rows<{ id: string; touch_seq: number; touch_hash: string }>(
      tx,
      'SELECT id, touch_seq, touch_hash FROM cases WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
      [caseIds],
    );
    return new Map(rows.map((row) => [row.id, asHead(row)]));
  }

  /** Appends chained rows and moves the case's head, in one round trip; the caller holds the case lock. */
  async append(tx: Tx, caseId: string, rows: readonly ChainedRow[], head: ChainHead): Promise<void> {
    await this.run(tx, `WITH appended AS (${INSERT_TOUCHES}) UPDATE cases SET touch_seq = $11, touch_hash = $12 WHERE id = $10`, [
      ...touchColumns(rows),
      caseId,
      head.seq,
      head.hash,
    ]);
  }

  /** Appends the chains of many locked cases: one insert, one update of their heads. */
  async appendMany(tx: Tx, chains: readonly { caseId: string; rows: readonly ChainedRow[]; head: ChainHead }[]): Promise<void> {
    await this.run(tx, INSERT_TOUCHES, touchColumns(chains.flatMap((chain) => chain.rows)));
    await this.run(
      tx,
      'UPDATE cases SET touch_seq = h.seq, touch_hash = h.hash FROM unnest($1::uuid[], $2::int[], $3::text[]) AS h(id, seq, hash) WHERE cases.id = h.id',
      [chains.map((chain) => chain.caseId), chains.map((chain) => chain.head.seq), chains.map((chain) => chain.head.hash)],
    );
  }

  /** Inserts the rows of cases created in this transaction, whose heads were written with the case. */
  async insert(tx: Tx, rows: readonly ChainedRow[]): Promise<void> {
    if (rows.length > 0) await this.run(tx, INSERT_TOUCHES, touchColumns(rows));
  }

  /**
   * The step worker's one statement after a send: when the case's head is still `expected` (read
   * at claim time), appends the rows, moves the head, marks the dispatch sent and its step done,
   * and returns the case's next waiting step. Null when another writer moved the head: nothing
   * was written, and the caller records under the case lock instead. Concurrent calls are
   * gathered into one statement in which each case's swap succeeds or fails on its own.
   */
  appendIfHeadUnchanged(
    caseId: string,
    expected: ChainHead,
    rows: readonly ChainedRow[],
    head: ChainHead,
    sent: NoticeSent,
  ): Promise<{ next: DueStep | undefined } | null> {
    return this.swaps.call(undefined, { caseId, expected, rows, head, sent });
  }

  private readonly swaps = new Gather<HeadSwap, { next: DueStep | undefined } | null>(
    async (tx, swaps) => {
      const swapped = await this.rows<{ n: string; next: { id: string; dueAt: string } | null }>(
        tx,
        `WITH swap AS (
         SELECT * FROM unnest($10::uuid[], $11::int[], $12::text[], $13::int[], $14::text[], $15::uuid[], $16::uuid[], $17::timestamptz[], $18::text[])
           WITH ORDINALITY AS swap(case_id, seq, hash, expected_seq, expected_hash, dispatch_id, step_id, at, provider_message_id, n)
       ), head AS (
         UPDATE cases c SET touch_seq = swap.seq, touch_hash = swap.hash FROM swap
         WHERE c.id = swap.case_id AND c.touch_seq = swap.expected_seq AND c.touch_hash = swap.expected_hash RETURNING c.id
       ), appended AS (
         ${INSERT_TOUCHES} AS touch(case_id) WHERE touch.case_id IN (SELECT id FROM head)
       ), sent AS (
         UPDATE dispatches d SET status = 'sent', sent_at = COALESCE(d.sent_at, swap.at), last_error = NULL,
           provider_message_id = COALESCE(swap.provider_message_id, d.provider_message_id)
         FROM swap WHERE d.id = swap.dispatch_id AND swap.case_id IN (SELECT id FROM head)
       ), done AS (
         UPDATE scheduled_steps s SET status = 'done', outcome = 'sent', finished_at = swap.at, updated_at = swap.at
         FROM swap WHERE s.id = swap.step_id AND swap.case_id IN (SELECT id FROM head)
       )
       SELECT swap.n, next_pending_step(swap.case_id, swap.step_id) AS next FROM swap WHERE swap.case_id IN (SELECT id FROM head)`,
        [
          ...touchColumns(swaps.flatMap((swap) => swap.rows)),
          swaps.map((swap) => swap.caseId),
          swaps.map((swap) => swap.head.seq),
          swaps.map((swap) => swap.head.hash),
          swaps.map((swap) => swap.expected.seq),
          swaps.map((swap) => swap.expected.hash),
          swaps.map((swap) => swap.sent.dispatchId),
          swaps.map((swap) => swap.sent.stepId),
          swaps.map((swap) => swap.sent.at),
          swaps.map((swap) => swap.sent.providerMessageId),
        ],
      );
      const outcomes = swaps.map((): { next: DueStep | undefined } | null => null);
      for (const { n, next } of swapped) outcomes[Number(n) - 1] = { next: next ? { id: next.id, dueAt: new Date(next.dueAt) } : undefined };
      return outcomes;
    },
    (swap) => swap.caseId,
  );

  /** The touches a case's legal record is read from, in seq order; concurrent reads are gathered. */
  legalTrail(tx: Tx | undefined, caseId: string): Promise<LegalTouch[]> {
    return this.legalTrails.call(tx, caseId);
  }

  private readonly legalTrails = new Gather<string, LegalTouch[]>(async (tx, caseIds) => {
    const rows = await this.rows<LegalTouch & { n: string }>(
      tx,
      // LATERAL: one index lookup per case, whatever the planner guesses of a case's touches (a join read them all).
      `SELECT want.n, t.* FROM unnest($1::uuid[]) WITH ORDINALITY AS want(id, n) CROSS JOIN LATERAL (
         SELECT seq, kind, at, channel, data FROM touches WHERE case_id = want.id AND kind = ANY($2::text[]) ORDER BY seq
       ) t ORDER BY want.n, t.seq`,
      [caseIds, LEGAL_TOUCH_KINDS],
    );
    const trails = caseIds.map((): LegalTouch[] => []);
    for (const { n, ...touch } of rows) trails[Number(n) - 1]!.push(touch);
    return trails;
  }, String);

  /** A case's touches after `afterSeq`, oldest first. */
  caseTrail(caseId: string, afterSeq: number, limit: number): Promise<StoredTouch[]> {
    return this.rows(undefined, `SELECT ${TOUCH_COLUMNS} FROM touches WHERE case_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [caseId, afterSeq, limit]);
  }

  /** Touches recorded in [from, to) after the keyset position, oldest first (by time, then id); on the primary, since retention trusts an export to hold every touch its seal covers. */
  exportPage(filter: { from: Date; to: Date; caseId?: string }, after: { at: Date; id: string }, limit: number): Promise<StoredTouch[]> {
    return this.rows(
      undefined,
      `SELECT ${TOUCH_COLUMNS} FROM touches
       WHERE at >= $1 AND at < $2 AND (at, id) > ($3, $4::bigint) ${filter.caseId ? 'AND case_id = $6' : ''}
       ORDER BY at, id LIMIT $5`,
      [filter.from, filter.to, after.at, after.id, limit, ...(filter.caseId ? [filter.caseId] : [])],
    );
  }

  /** Every case's touches in chain order (case, then seq), after the keyset position. */
  chainPage(tx: Tx | undefined, after: { caseId: string; seq: number }, limit: number): Promise<StoredTouch[]> {
    return this.rows(tx, `SELECT ${TOUCH_COLUMNS} FROM touches WHERE (case_id, seq) > ($1, $2) ORDER BY case_id, seq LIMIT $3`, [
      after.caseId,
      after.seq,
      limit,
    ]);
  }

  /** The head stored on the case row. */
  async head(caseId: string, tx?: Tx): Promise<ChainHead | undefined> {
    const row = await this.row<{ touch_seq: number; touch_hash: string }>(tx, 'SELECT touch_seq, touch_hash FROM cases WHERE id = $1', [caseId]);
    return row && asHead(row);
  }

  /** Locks the heads of cases whose chain moved since their last seal (skipping cases being written). */
  async lockUnsealedHeads(tx: Tx, limit: number): Promise<SealHead[]> {
    const rows = await this.rows<{ id: string; touch_seq: number; touch_hash: string }>(
      tx,
      'SELECT id, touch_seq, touch_hash FROM cases WHERE touch_seq > sealed_seq ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
      [limit],
    );
    return rows.map((row) => ({ caseId: row.id, seq: row.touch_seq, hash: row.touch_hash }));
  }

  /** The hash of the last seal; empty before the first. */
  async lastSealHash(tx: Tx): Promise<string> {
    return (await this.lastSeal(tx))?.hash ?? '';
  }

  /** Stores a seal and notes on each case the seq it covers. */
  async insertSeal(tx: Tx, seal: { sealedAt: Date; heads: readonly SealHead[]; prevHash: string; hash: string }): Promise<void> {
    await this.run(tx, 'INSERT INTO audit_seals (sealed_at, heads, prev_hash, hash) VALUES ($1, $2, $3, $4)', [
      seal.sealedAt,
      JSON.stringify(seal.heads),
      seal.prevHash,
      seal.hash,
    ]);
    await this.run(tx, 'UPDATE cases SET sealed_seq = heads.seq FROM unnest($1::uuid[], $2::int[]) AS heads(id, seq) WHERE cases.id = heads.id', [
      seal.heads.map((head) => head.caseId),
      seal.heads.map((head) => head.seq),
    ]);
  }

  /** Seals after `afterId`, in order. */
  sealPage(tx: Tx | undefined, afterId: string, limit: number): Promise<StoredSeal[]> {
    return this.rows(tx, 'SELECT id, heads, prev_hash AS "prevHash", hash FROM audit_seals WHERE id > $1 ORDER BY id LIMIT $2', [afterId, limit]);
  }

  /**
   * The first sealed head whose touch is missing or has another hash. A head a retention run
   * removed is checked against the case's anchor when it is the anchored touch, and not at all
   * when it is older (the export holds it).
   */
  sealedHeadMismatch(tx: Tx | undefined, heads: readonly SealHead[]): Promise<{ caseId: string; seq: number } | undefined> {
    return this.row(
      tx,
      `SELECT heads."caseId", heads.seq FROM jsonb_to_recordset($1::jsonb) AS heads("caseId" uuid, seq int, hash text)
       LEFT JOIN touches t ON t.case_id = heads."caseId" AND t.seq = heads.seq
       LEFT JOIN LATERAL (SELECT a.seq, a.hash FROM chain_anchors a WHERE a.case_id = heads."caseId" ORDER BY a.seq DESC LIMIT 1) anchor ON true
       WHERE CASE WHEN heads.seq <= anchor.seq THEN heads.seq = anchor.seq AND heads.hash IS DISTINCT FROM anchor.hash
                  ELSE t.hash IS DISTINCT FROM heads.hash END
       LIMIT 1`,
      [JSON.stringify(heads)],
    );
  }

  /** The case's latest chain anchor: the last touch retention removed, which its kept touches continue. */
  anchor(tx: Tx | undefined, caseId: string): Promise<ChainHead | undefined> {
    return this.row(tx, 'SELECT seq, hash FROM chain_anchors WHERE case_id = $1 ORDER BY seq DESC LIMIT 1', [caseId]);
  }

  /** The newest seal, if any. */
  lastSeal(tx?: Tx): Promise<{ id: string; hash: string } | undefined> {
    return this.row(tx, 'SELECT id::text, hash FROM audit_seals ORDER BY id DESC LIMIT 1');
  }
}
