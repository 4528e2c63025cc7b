import { type CaseStatus, isOpen, isSettled, SKIP_REASONS, type SettledStepStatus, type SkipReason, type StepStatus } from './statuses';

/** Jobs may fire a little early (clock skew between hosts); beyond this they are re-delayed. */
export const EARLY_TOLERANCE_MS = 1000;

/** What a run may do with a step, decided before it acts. */
export type StepVerdict =
  | { kind: 'missing' }
  | { kind: 'settled'; status: SettledStepStatus }
  | { kind: 'cancel'; reason: string }
  | { kind: 'held' }
  | { kind: 'early'; notBefore: Date }
  | { kind: 'act' };

/**
 * The guard before every step run: a step gone or settled is left alone, a closed case's step is
 * cancelled, a held case's step waits (releasing the hold enqueues it again), a step found early
 * goes back to wait, and any other step may act.
 */
export function guardStep(step: { status: StepStatus; dueAt: Date; caseStatus: CaseStatus } | undefined, now: Date): StepVerdict {
  if (!step) return { kind: 'missing' };
  if (isSettled(step.status)) return { kind: 'settled', status: step.status };
  if (!isOpen(step.caseStatus)) return { kind: 'cancel', reason: `case ${step.caseStatus}` };
  if (step.caseStatus === 'on_hold') return { kind: 'held' };
  if (step.dueAt.getTime() - now.getTime() > EARLY_TOLERANCE_MS) return { kind: 'early', notBefore: step.dueAt };
  return { kind: 'act' };
}

/** Why a notice may not go to this debtor at all: they asked us to stop, died, or are insolvent. */
export function contactRefusal(debtor: { ceaseContact: boolean; deceased: boolean; bankrupt: boolean }): SkipReason | null {
  if (debtor.ceaseContact) return SKIP_REASONS.ceaseContact;
  if (debtor.deceased) return SKIP_REASONS.deceased;
  if (debtor.bankrupt) return SKIP_REASONS.bankrupt;
  return null;
}
