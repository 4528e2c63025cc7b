import { createHash } from 'node:crypto';
import { Duration } from 'luxon';
import type { VerdictOutcome } from './cure-rate-test.rules';

/** Which side of an experiment a case is on: the champion policy or the challenger. */
export const ARMS = ['champion', 'challenger'] as const;
export type Arm = (typeof ARMS)[number];

export const EXPERIMENT_STATUSES = ['running', 'stopped', 'promoted'] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

export const EXPERIMENT_ACTIONS = ['started', 'stopped', 'promoted'] as const;
export type ExperimentAction = (typeof EXPERIMENT_ACTIONS)[number];

/** What a stop or promotion was decided on: the report's verdict and its sample at that moment. */
export interface VerdictAtAction {
  asOf: string;
  sampleComplete: boolean;
  outcome: VerdictOutcome;
  text: string;
  samples: Record<Arm, { debtors: number; cured: number }>;
  z: number | null;
  pValue: number | null;
}

/** The horizon when a start names none: a debtor counts once their first case is 60 days old. */
export const DEFAULT_CURE_WITHIN = 'P60D';
/** At most three years: an experiment that long is a policy. */
const MAX_CURE_WITHIN_DAYS = 1096;
// Whole units only, in the ISO-8601 form PostgreSQL reads as an interval as well.
const HORIZON = /^P(?=\d|T\d)(\d{1,4}Y)?(\d{1,4}M)?(\d{1,4}W)?(\d{1,4}D)?(T(?=\d)(\d{1,4}H)?(\d{1,4}M)?(\d{1,4}S)?)?$/;

/** Why a horizon is refused, or null when it is a positive ISO-8601 period of whole units up to three years. */
export function horizonProblem(period: string): string | null {
  const duration = HORIZON.test(period) ? Duration.fromISO(period) : null;
  if (!duration?.isValid) return 'must be an ISO-8601 period of whole units such as P60D, P8W or P2M';
  const days = duration.as('days');
  if (days <= 0) return 'must be longer than zero';
  if (days > MAX_CURE_WITHIN_DAYS) return `must be at most ${MAX_CURE_WITHIN_DAYS} days`;
  return null;
}

/**
 * The debtor's place in [0, 1) for one experiment: the first 48 bits of
 * SHA-256(experiment id, debtor external id). The same debtor always lands on the same spot of
 * the same experiment (so a debtor's later cases share the arm of the first), and on unrelated
 * spots of different experiments (so one experiment's challengers are not the next one's).
 */
export function bucketOf(experimentId: string, debtorExternalId: string): number {
  const digest = createHash('sha256').update(`${experimentId}\u0000${debtorExternalId}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** The challenger takes the buckets below its share. */
export function armOf(bucket: number, challengerShare: number): Arm {
  return bucket < challengerShare ? 'challenger' : 'champion';
}

/** A promoted experiment, in the order the promotions happened. */
export interface Promotion {
  champion: string;
  challenger: string;
}

/**
 * Which policy replaces which for new cases, after these promotions (oldest first). Each
 * promotion sends the champion's cases to the challenger, and with them the cases of any policy
 * the champion had itself replaced; a challenger that had been replaced is in force again. So
 * every replacement is one hop and none points back at itself: promoting B over A and later A
 * over B leaves A in force, as if the first promotion had been undone.
 */
export function replacements(promotions: readonly Promotion[]): Map<string, string> {
  const replaced = new Map<string, string>();
  for (const { champion, challenger } of promotions) {
    replaced.delete(challenger);
    for (const [policy, by] of replaced) if (by === champion) replaced.set(policy, challenger);
    replaced.set(champion, challenger);
  }
  return replaced;
}
