/**
 * A sweep's place in the touches, for sweeps that must see every touch once (QA scoring, webhook
 * deliveries): every touch up to `watermark` is done; `pendingLimit` is a sequence value read while
 * transactions older than `pendingXid` could still be open. A touch id is taken before its
 * transaction commits, so a lower id can become visible after a higher one; xids are cluster-wide.
 */
export interface WatermarkState {
  watermark: string;
  pendingLimit: string;
  pendingXid: string | null;
}

/**
 * Where the watermark can go: past every touch up to the pending sequence value once the
 * transactions open when it was read have ended (and up to the last handled id while a full batch
 * says there is more); then a new pending value is read for the next round.
 */
export function nextState(
  state: WatermarkState,
  read: { settled: boolean; full: boolean; lastId: string | undefined; sequence: string; xid: string },
): WatermarkState {
  if (!read.settled) return state;
  const pending = BigInt(state.pendingLimit);
  const reach = read.full && read.lastId !== undefined && BigInt(read.lastId) < pending ? BigInt(read.lastId) : pending;
  const watermark = reach > BigInt(state.watermark) ? reach : BigInt(state.watermark);
  if (watermark < pending) return { ...state, watermark: watermark.toString() };
  return { watermark: watermark.toString(), pendingLimit: read.sequence, pendingXid: read.xid };
}
