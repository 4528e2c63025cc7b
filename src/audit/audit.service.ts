import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AdvisoryLock, Locks } from '../database/locks.repository';
import { Transactions, type Tx } from '../database/transactions';
import type { DueStep } from '../domain/step';
import { type ChainedRow, chainTouches, type ChainHead, findChainFault, sealHash } from '../domain/touch-chain';
import type { TouchInput } from '../domain/touch-kinds';
import { OnSweep } from '../jobs/job-handlers';
import { SweepName } from '../jobs/job-names';
import { type AuditExport, RetentionRepository } from './retention.repository';
import { type NoticeSent, type StoredTouch, TouchRepository } from './touch.repository';

export interface VerifyReport {
  ok: boolean;
  checked: number;
  seals: number;
  brokenAt?: { caseId?: string; seq?: number; touchId?: string; sealId?: string; reason: string };
}

export type { StoredTouch as ExportedTouch } from './touch.repository';

const VERIFY_PAGE = 5000;
const EXPORT_PAGE = 2000;
const SEAL_PAGE = 100;
/** Case heads one seal covers at most; the rest wait for the next round. */
const SEAL_HEADS = 20000;

/** The one way touches are written: appended to the case's hash chain in the caller's transaction. */
@Injectable()
export class AuditService {
  constructor(
    private readonly touches: TouchRepository,
    private readonly exports: RetentionRepository,
    private readonly transactions: Transactions,
    private readonly locks: Locks,
    private readonly clock: Clock,
  ) {}

  /**
   * Appends touches to a case's chain. The case row lock serialises writers of that case only.
   * A caller that already holds the lock passes the head it read.
   */
  async record(tx: Tx, caseId: string, touches: readonly TouchInput[], head?: ChainHead): Promise<void> {
    if (touches.length === 0) return;
    const current = head ?? (await this.lockHead(tx, caseId));
    const chained = this.chain(caseId, current, touches);
    await this.touches.append(tx, caseId, chained.rows, chained.head);
  }

  /** Appends touches to many cases at once (a batch chunk): lock their heads, one insert, one head update. */
  async recordMany(tx: Tx, entries: readonly { caseId: string; touches: readonly TouchInput[] }[]): Promise<void> {
    const wanted = entries.filter((entry) => entry.touches.length > 0);
    if (wanted.length === 0) return;
    const heads = await this.touches.lockHeads(
      tx,
      wanted.map((entry) => entry.caseId),
    );
    await this.touches.appendMany(
      tx,
      wanted.map((entry) => ({ caseId: entry.caseId, ...this.chain(entry.caseId, heads.get(entry.caseId)!, entry.touches) })),
    );
  }

  /** Locks a case (its chain's writer lock) and reads its head; a case that does not exist is a bug here. */
  async lockHead(tx: Tx, caseId: string): Promise<ChainHead> {
    const head = await this.touches.lockHead(tx, caseId);
    if (!head) throw new Error(`case ${caseId} does not exist`);
    return head;
  }

  /** Links touches onto a head, recorded now; the caller stores `head` on the case row. */
  chain(caseId: string, from: ChainHead, touches: readonly TouchInput[]): { rows: ChainedRow[]; head: ChainHead } {
    return chainTouches(caseId, from, touches, this.clock.now());
  }

  /** Inserts chained rows of cases created in this transaction with their heads already set. */
  appendToNewCases(tx: Tx, rows: readonly ChainedRow[]): Promise<void> {
    return this.touches.insert(tx, rows);
  }

  /**
   * Records a sent notice's touch without taking the case lock, when the case's head is still the
   * one read at claim time: one statement that also marks the dispatch sent and the step done.
   * Null when the head moved (nothing written); the caller then records under the lock.
   */
  async recordIfHeadUnchanged(
    caseId: string,
    expected: ChainHead,
    touches: readonly TouchInput[],
    sent: NoticeSent,
  ): Promise<{ next: DueStep | undefined } | null> {
    const { rows, head } = this.chain(caseId, expected, touches);
    return this.touches.appendIfHeadUnchanged(caseId, expected, rows, head, sent);
  }

  /** Seals the heads of every case whose chain moved since the last seal. */
  @OnSweep(SweepName.Seal)
  async seal(): Promise<number> {
    return this.transactions.run(async (tx) => {
      if (!(await this.locks.tryTake(tx, AdvisoryLock.Seal))) return 0;
      const heads = await this.touches.lockUnsealedHeads(tx, SEAL_HEADS);
      if (heads.length === 0) return 0;
      const prevHash = await this.touches.lastSealHash(tx);
      await this.touches.insertSeal(tx, { sealedAt: this.clock.now(), heads, prevHash, hash: sealHash(prevHash, heads) });
      return heads.length;
    });
  }

  /**
   * Touches recorded in [from, to), oldest first, a page at a time (keyset on time and id), as
   * the API shows them: for exports that must not hold the whole trail in memory.
   */
  async *exportPages(filter: { from: Date; to: Date; caseId?: string }): AsyncGenerator<StoredTouch[]> {
    let after = { at: new Date(0), id: '0' };
    for (;;) {
      const rows = await this.touches.exportPage(filter, after, EXPORT_PAGE);
      const last = rows[rows.length - 1];
      if (!last) return;
      yield rows;
      after = { at: last.at, id: last.id };
      if (rows.length < EXPORT_PAGE) return;
    }
  }

  /** The newest seal: what an export starts from. */
  lastSeal(): Promise<{ id: string; hash: string } | undefined> {
    return this.touches.lastSeal();
  }

  /** Records a completed download of the trail (append-only): what retention runs rely on. */
  recordExport(entry: AuditExport): Promise<void> {
    return this.exports.recordExport(entry);
  }

  /**
   * Walks every case chain, then the seal chain and the touches each seal names, all in one
   * snapshot: a touch written meanwhile is not half seen (in a head but not in its chain).
   */
  verify(): Promise<VerifyReport> {
    return this.transactions.snapshot((tx) => this.verifyIn(tx));
  }

  private async verifyIn(tx: Tx): Promise<VerifyReport> {
    let checked = 0;
    let after = { caseId: '00000000-0000-0000-0000-000000000000', seq: 0 };
    let current: StoredTouch[] = [];
    const flush = async (): Promise<VerifyReport['brokenAt'] | undefined> => {
      const first = current[0];
      const last = current[current.length - 1];
      if (!first || !last) return undefined;
      // A chain that does not start at 1 continues the anchor a retention run left (or has a gap).
      const from = first.seq === 1 ? undefined : await this.touches.anchor(tx, first.caseId);
      const fault = findChainFault(current, from);
      if (fault) {
        const touch = current.find((entry) => entry.seq === fault.seq);
        return { caseId: first.caseId, seq: fault.seq, touchId: touch?.id, reason: fault.fault };
      }
      const head = await this.touches.head(first.caseId, tx);
      if (head?.seq !== last.seq || head.hash !== last.hash) return { caseId: first.caseId, seq: last.seq, touchId: last.id, reason: 'head mismatch' };
      return undefined;
    };
    for (;;) {
      const rows = await this.touches.chainPage(tx, after, VERIFY_PAGE);
      for (const row of rows) {
        if (current[0] && current[0].caseId !== row.caseId) {
          const broken = await flush();
          if (broken) return { ok: false, checked, seals: 0, brokenAt: broken };
          current = [];
        }
        current.push(row);
        checked++;
      }
      const last = rows[rows.length - 1];
      if (!last || rows.length < VERIFY_PAGE) break;
      after = { caseId: last.caseId, seq: last.seq };
    }
    const broken = await flush();
    if (broken) return { ok: false, checked, seals: 0, brokenAt: broken };
    return this.verifySeals(tx, checked);
  }

  private async verifySeals(tx: Tx, checked: number): Promise<VerifyReport> {
    let prevHash = '';
    let seals = 0;
    let afterId = '0';
    for (;;) {
      const rows = await this.touches.sealPage(tx, afterId, SEAL_PAGE);
      for (const seal of rows) {
        seals++;
        if (seal.prevHash !== prevHash || sealHash(seal.prevHash, seal.heads) !== seal.hash) {
          return { ok: false, checked, seals, brokenAt: { sealId: seal.id, reason: 'seal chain broken' } };
        }
        const mismatch = await this.touches.sealedHeadMismatch(tx, seal.heads);
        if (mismatch) {
          return {
            ok: false,
            checked,
            seals,
            brokenAt: { sealId: seal.id, caseId: mismatch.caseId, seq: mismatch.seq, reason: 'sealed head differs from the touch' },
          };
        }
        prevHash = seal.hash;
      }
      const last = rows[rows.length - 1];
      if (!last || rows.length < SEAL_PAGE) break;
      afterId = last.id;
    }
    return { ok: true, checked, seals };
  }
}
