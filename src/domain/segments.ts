/**
 * The debtor's segment when the event names none (seed 001 part 12, seed 004): `wilful` when the
 * debtor is flagged so, `repeat` when an earlier case exists, else `first-time`.
 */
export function deriveSegment(wilful: boolean, hadCaseBefore: boolean): 'wilful' | 'repeat' | 'first-time' {
  if (wilful) return 'wilful';
  return hadCaseBefore ? 'repeat' : 'first-time';
}
