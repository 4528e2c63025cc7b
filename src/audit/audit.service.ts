import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { OnSweep } from '../jobs/job-handlers';
import { SweepName } from '../jobs/job-names';
import { ChainedTouch, findChainFault, SealHead, sealHash, touchHash } from '../domain/touch-chain';
import type { TouchInput } from '../domain/touch-kinds';

export interface VerifyReport {
  ok: boolean;
  checked: number;
  seals: number;
  brokenAt?: { caseId?: string; seq?: number; touchId?: string; sealId?: string; reason: string };
}

interface TouchRow {
  id: string;
  case_id: string;
  seq: number;
  kind: string;
  at: Date;
  actor: string;
  channel: string | null;
  data: unknown;
  prev_hash: string;
  hash: string;
}

const VERIFY_PAGE = 5000;
const EXPORT_PAGE = 2000;

/** A touch as the API and the export show it. */
export interface ExportedTouch {
  id: string;
  caseId: string;
  seq: number;
  kind: string;
  at: Date;
  actor: string;
  channel: string | null;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type ChainedRow = ChainedTouch & { hash: string };

/** Takes the nine columns of `touchColumns` as $1…$9. */
export const INSERT_TOUCHES = `INSERT INTO touches (case_id, seq, kind, at, actor, channel, data, prev_hash, hash)
  SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::jsonb[], $8::text[], $9::text[])`;

export function touchColumns(rows: readonly ChainedRow[]): unknown[] {
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

/** A case's chain head as stored on the case row. */
export interface CaseHead {
  touch_seq: number;
  touch_hash: string;
}

/** The head of a case created in the current transaction. */
export const NEW_CASE_HEAD: CaseHead = { touch_seq: 0, touch_hash: '' };

/** The one way touches are written: appended to the case's hash chain in the caller's transaction. */
@Injectable()
export class AuditService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /**
   * Appends touches to a case's chain. The case row lock serialises writers of that case only.
   * A caller that already holds the lock passes the head it read.
   */
  async record(m: EntityManager, caseId: string, touches: readonly TouchInput[], head?: CaseHead): Promise<void> {
    if (touches.length === 0) return;
    const current: CaseHead = head ?? (await m.query('SELECT touch_seq, touch_hash FROM cases WHERE id = $1 FOR UPDATE', [caseId]))[0];
    const { rows, head: next } = this.chain(caseId, current, touches);
    // One round trip: append the rows and move the case's head.
    await m.query(`WITH appended AS (${INSERT_TOUCHES}) UPDATE cases SET touch_seq = $11, touch_hash = $12 WHERE id = $10`, [
      ...touchColumns(rows),
      caseId,
      next.touch_seq,
      next.touch_hash,
    ]);
  }

  /** Appends touches to many cases at once (a batch chunk): lock their heads, one insert, one head update. */
  async recordMany(m: EntityManager, entries: readonly { caseId: string; touches: readonly TouchInput[] }[]): Promise<void> {
    const wanted = entries.filter((entry) => entry.touches.length > 0);
    if (wanted.length === 0) return;
    const heads: { id: string; touch_seq: number; touch_hash: string }[] = await m.query(
      'SELECT id, touch_seq, touch_hash FROM cases WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
      [wanted.map((entry) => entry.caseId)],
    );
    const headOf = new Map(heads.map((head) => [head.id, head]));
    const chained = wanted.map((entry) => ({ caseId: entry.caseId, ...this.chain(entry.caseId, headOf.get(entry.caseId)!, entry.touches) }));
    await m.query(INSERT_TOUCHES, touchColumns(chained.flatMap((entry) => entry.rows)));
    await m.query(
      'UPDATE cases SET touch_seq = h.seq, touch_hash = h.hash FROM unnest($1::uuid[], $2::int[], $3::text[]) AS h(id, seq, hash) WHERE cases.id = h.id',
      [chained.map((entry) => entry.caseId), chained.map((entry) => entry.head.touch_seq), chained.map((entry) => entry.head.touch_hash)],
    );
  }

  /** Links touches onto a head; the caller stores `head` on the case row. */
  chain(caseId: string, from: CaseHead, touches: readonly TouchInput[]): { rows: ChainedRow[]; head: CaseHead } {
    const at = this.clock.now();
    let seq = from.touch_seq;
    let prevHash = from.touch_hash;
    const rows = touches.map((input) => {
      const touch: ChainedTouch = { caseId, seq: ++seq, kind: input.kind, at, actor: input.actor, channel: input.channel ?? null, data: input.data, prevHash };
      prevHash = touchHash(touch);
      return { ...touch, hash: prevHash };
    });
    return { rows, head: { touch_seq: seq, touch_hash: prevHash } };
  }

  /** Inserts chained rows of cases created in this transaction with their heads already set. */
  async appendToNewCases(m: EntityManager, rows: readonly ChainedRow[]): Promise<void> {
    if (rows.length) await m.query(INSERT_TOUCHES, touchColumns(rows));
  }

  /** Seals the heads of every case whose chain moved since the last seal. */
  @OnSweep(SweepName.Seal)
  async seal(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }] = await manager.query('SELECT pg_try_advisory_xact_lock(727003) AS locked');
      if (!locked) return 0;
      const heads: SealHead[] = (
        await manager.query(`SELECT id, touch_seq, touch_hash FROM cases WHERE touch_seq > sealed_seq ORDER BY id LIMIT 20000 FOR UPDATE SKIP LOCKED`)
      ).map((row: { id: string; touch_seq: number; touch_hash: string }) => ({ caseId: row.id, seq: row.touch_seq, hash: row.touch_hash }));
      if (heads.length === 0) return 0;
      const [previous] = await manager.query('SELECT hash FROM audit_seals ORDER BY id DESC LIMIT 1');
      const prevHash: string = previous?.hash ?? '';
      await manager.query('INSERT INTO audit_seals (sealed_at, heads, prev_hash, hash) VALUES ($1, $2, $3, $4)', [
        this.clock.now(),
        JSON.stringify(heads),
        prevHash,
        sealHash(prevHash, heads),
      ]);
      await manager.query('UPDATE cases SET sealed_seq = heads.seq FROM unnest($1::uuid[], $2::int[]) AS heads(id, seq) WHERE cases.id = heads.id', [
        heads.map((head) => head.caseId),
        heads.map((head) => head.seq),
      ]);
      return heads.length;
    });
  }

  /**
   * Touches recorded in [from, to), oldest first, a page at a time (keyset on time and id), as
   * the API shows them: for exports that must not hold the whole trail in memory.
   */
  async *exportPages(filter: { from: Date; to: Date; caseId?: string }): AsyncGenerator<ExportedTouch[]> {
    let after = { at: new Date(0), id: '0' };
    for (;;) {
      const rows: (ExportedTouch & { id: string })[] = await this.dataSource.query(
        `SELECT id, case_id AS "caseId", seq, kind, at, actor, channel, data, prev_hash AS "prevHash", hash FROM touches
         WHERE at >= $1 AND at < $2 AND (at, id) > ($3, $4::bigint) ${filter.caseId ? 'AND case_id = $6' : ''}
         ORDER BY at, id LIMIT $5`,
        [filter.from, filter.to, after.at, after.id, EXPORT_PAGE, ...(filter.caseId ? [filter.caseId] : [])],
      );
      if (rows.length === 0) return;
      yield rows;
      const last = rows[rows.length - 1];
      after = { at: last.at, id: last.id };
      if (rows.length < EXPORT_PAGE) return;
    }
  }

  /** Walks every case chain, then the seal chain and the touches each seal names. */
  async verify(): Promise<VerifyReport> {
    let checked = 0;
    let after = { caseId: '00000000-0000-0000-0000-000000000000', seq: 0 };
    let current: (ChainedTouch & { hash: string; id: string })[] = [];
    const flush = async (): Promise<VerifyReport['brokenAt'] | undefined> => {
      if (current.length === 0) return undefined;
      const caseId = current[0].caseId;
      const fault = findChainFault(current);
      if (fault) {
        const touch = current.find((entry) => entry.seq === fault.seq);
        return { caseId, seq: fault.seq, touchId: touch?.id, reason: fault.fault };
      }
      const [head] = await this.dataSource.query('SELECT touch_seq, touch_hash FROM cases WHERE id = $1', [caseId]);
      const last = current[current.length - 1];
      if (head.touch_seq !== last.seq || head.touch_hash !== last.hash) {
        return { caseId, seq: last.seq, touchId: last.id, reason: 'head mismatch' };
      }
      return undefined;
    };
    for (;;) {
      const rows: TouchRow[] = await this.dataSource.query(
        `SELECT id, case_id, seq, kind, at, actor, channel, data, prev_hash, hash FROM touches
         WHERE (case_id, seq) > ($1, $2) ORDER BY case_id, seq LIMIT ${VERIFY_PAGE}`,
        [after.caseId, after.seq],
      );
      for (const row of rows) {
        if (current.length && current[0].caseId !== row.case_id) {
          const broken = await flush();
          if (broken) return { ok: false, checked, seals: 0, brokenAt: broken };
          current = [];
        }
        current.push({
          id: row.id,
          caseId: row.case_id,
          seq: row.seq,
          kind: row.kind,
          at: row.at,
          actor: row.actor,
          channel: row.channel,
          data: row.data,
          prevHash: row.prev_hash,
          hash: row.hash,
        });
        checked++;
      }
      if (rows.length < VERIFY_PAGE) break;
      const last = rows[rows.length - 1];
      after = { caseId: last.case_id, seq: last.seq };
    }
    const broken = await flush();
    if (broken) return { ok: false, checked, seals: 0, brokenAt: broken };
    return this.verifySeals(checked);
  }

  private async verifySeals(checked: number): Promise<VerifyReport> {
    let prevHash = '';
    let seals = 0;
    let afterId = '0';
    for (;;) {
      const rows: { id: string; heads: SealHead[]; prev_hash: string; hash: string }[] = await this.dataSource.query(
        'SELECT id, heads, prev_hash, hash FROM audit_seals WHERE id > $1 ORDER BY id LIMIT 100',
        [afterId],
      );
      for (const seal of rows) {
        seals++;
        if (seal.prev_hash !== prevHash || sealHash(seal.prev_hash, seal.heads) !== seal.hash) {
          return { ok: false, checked, seals, brokenAt: { sealId: seal.id, reason: 'seal chain broken' } };
        }
        const mismatch: { case_id: string; seq: number }[] = await this.dataSource.query(
          `SELECT heads."caseId" AS case_id, heads.seq FROM jsonb_to_recordset($1::jsonb) AS heads("caseId" uuid, seq int, hash text)
           LEFT JOIN touches t ON t.case_id = heads."caseId" AND t.seq = heads.seq
           WHERE t.hash IS DISTINCT FROM heads.hash LIMIT 1`,
          [JSON.stringify(seal.heads)],
        );
        if (mismatch.length) {
          return {
            ok: false,
            checked,
            seals,
            brokenAt: { sealId: seal.id, caseId: mismatch[0].case_id, seq: mismatch[0].seq, reason: 'sealed head differs from the touch' },
          };
        }
        prevHash = seal.hash;
      }
      if (rows.length < 100) break;
      afterId = rows[rows.length - 1].id;
    }
    return { ok: true, checked, seals };
  }
}
