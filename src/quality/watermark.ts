import type { ScoringState } from './quality.repository';

/**
 * Where the watermark can go: past every touch up to the pending sequence value once the
 * transactions open when it was read have ended (and up to the last scored id while a full batch
 * says there is more); then a new pending value is read for the next round.
 */
export function nextState(
  state: ScoringState,
  read: { settled: boolean; full: boolean; lastId: string | undefined; sequence: string; xid: string },
): ScoringState {
  if (!read.settled) return state;
  const pending = BigInt(state.pendingLimit);
  const reach = read.full && read.lastId !== undefined && BigInt(read.lastId) < pending ? BigInt(read.lastId) : pending;
  const watermark = reach > BigInt(state.watermark) ? reach : BigInt(state.watermark);
  if (watermark < pending) return { ...state, watermark: watermark.toString() };
  return { watermark: watermark.toString(), pendingLimit: read.sequence, pendingXid: read.xid };
}
