/** Case statuses (design.md): open while `active` or `on_hold`, closed otherwise. */
export const CASE_STATUSES = ['active', 'on_hold', 'resolved', 'cancelled', 'written_off', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const OPEN_CASE_STATUSES = ['active', 'on_hold'] as const satisfies readonly CaseStatus[];
export type OpenCaseStatus = (typeof OPEN_CASE_STATUSES)[number];
export type ClosingStatus = Exclude<CaseStatus, OpenCaseStatus | 'closed'>;

export const isOpen = (status: CaseStatus): status is OpenCaseStatus => status === 'active' || status === 'on_hold';

/** Step statuses in a case's schedule (design.md). */
export const STEP_STATUSES = ['pending', 'running', 'done', 'skipped', 'deferred', 'cancelled', 'failed'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** Steps that still wait for their time: the ladder's remaining steps. */
export const WAITING_STEP_STATUSES = ['pending', 'deferred'] as const satisfies readonly StepStatus[];
/** Steps that a run settled for good: a rerun changes nothing. */
export const SETTLED_STEP_STATUSES = ['done', 'skipped', 'cancelled'] as const satisfies readonly StepStatus[];
export type SettledStepStatus = (typeof SETTLED_STEP_STATUSES)[number];

export const isSettled = (status: StepStatus): status is SettledStepStatus => (SETTLED_STEP_STATUSES as readonly string[]).includes(status);

/** How a step run ended, as the job's result and the metrics' `outcome` label. */
export type StepOutcome =
  | 'sent'
  | 'in-doubt'
  | 'issued'
  | 'assessed'
  | 'escalated'
  | 'terminated'
  | 'written-off'
  | 'skipped'
  | 'cancelled'
  | 'held'
  | 'missing'
  | `already-${SettledStepStatus}`;

/** Why a step was skipped, as the step's outcome and the `step.skipped` touch say it. */
export const SKIP_REASONS = {
  superseded: 'superseded: a later step was already due when the case opened',
  pastDueReminder: 'the invoice was already overdue when the case opened: a reminder before the due date no longer applies',
  ceaseContact: 'debtor asked to cease contact',
  deceased: 'debtor reported deceased',
  bankrupt: 'debtor bankrupt',
  noEmail: 'debtor has no email address',
  noPhone: 'debtor has no phone number',
  emailOnlyLetter: 'debtor asked to cease contact; this letter goes by email only',
  noLateFeeRate: 'no late-fee rate: neither the invoice nor the policy states one',
} as const;
export type SkipReason = (typeof SKIP_REASONS)[keyof typeof SKIP_REASONS] | `no letter issued: ${string}`;

/**
 * A dispatch (one outgoing message) before and after its send. `sending` is written before the
 * message goes out; found by a later run, the send was interrupted (a crash) and may have gone:
 * `in_doubt` until an operator retries it.
 */
export type DispatchStatus = 'pending' | 'sending' | 'sent' | 'in_doubt' | 'failed';
