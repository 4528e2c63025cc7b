import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { TouchInput } from './touch-kinds';

/** What a touch's hash covers: everything but its own id and hash. */
export interface ChainedTouch {
  caseId: string;
  seq: number;
  kind: string;
  at: Date;
  actor: string;
  channel: string | null;
  data: unknown;
  prevHash: string;
}

/** sha256 over the previous hash and the touch's canonical JSON (RFC 8785). */
export function touchHash(touch: ChainedTouch): string {
  const body = canonicalize({
    caseId: touch.caseId,
    seq: touch.seq,
    kind: touch.kind,
    at: touch.at.toISOString(),
    actor: touch.actor,
    channel: touch.channel,
    data: touch.data,
  });
  return createHash('sha256')
    .update(touch.prevHash)
    .update('\n')
    .update(body ?? '')
    .digest('hex');
}

export interface SealHead {
  caseId: string;
  seq: number;
  hash: string;
}

/** A seal chains the previous seal with the case heads that moved since it. */
export function sealHash(prevHash: string, heads: readonly SealHead[]): string {
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(canonicalize(heads) ?? '')
    .digest('hex');
}

export type ChainFault = 'hash mismatch' | 'broken link' | 'sequence gap' | 'head mismatch';

/**
 * Checks one case's touches (ordered by seq) link up; returns the first fault. `from` is the head
 * they continue: the empty chain, or the last touch a retention run removed (its anchor).
 */
export function findChainFault(
  touches: readonly (ChainedTouch & { hash: string })[],
  from: ChainHead = EMPTY_CHAIN,
): { seq: number; fault: ChainFault } | null {
  let prevHash = from.hash;
  for (const [index, touch] of touches.entries()) {
    if (touch.seq !== from.seq + index + 1) return { seq: touch.seq, fault: 'sequence gap' };
    if (touch.prevHash !== prevHash) return { seq: touch.seq, fault: 'broken link' };
    if (touchHash(touch) !== touch.hash) return { seq: touch.seq, fault: 'hash mismatch' };
    prevHash = touch.hash;
  }
  return null;
}

/** A case's chain head, as stored on the case row: its last touch's seq and hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** The head of a case with no touch yet. */
export const EMPTY_CHAIN: ChainHead = { seq: 0, hash: '' };

export type ChainedRow = ChainedTouch & { hash: string };

/** Links touches, all recorded `at`, onto a head; the caller stores `head` on the case row. */
export function chainTouches(caseId: string, from: ChainHead, touches: readonly TouchInput[], at: Date): { rows: ChainedRow[]; head: ChainHead } {
  let seq = from.seq;
  let prevHash = from.hash;
  const rows = touches.map((input) => {
    const touch: ChainedTouch = { caseId, seq: ++seq, kind: input.kind, at, actor: input.actor, channel: input.channel ?? null, data: input.data, prevHash };
    prevHash = touchHash(touch);
    return { ...touch, hash: prevHash };
  });
  return { rows, head: { seq, hash: prevHash } };
}
