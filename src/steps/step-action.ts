import type { IssuedLetter } from '../letters/letters.service';
import type { Tx } from '../database/transactions';
import { UnrecoverableError } from 'bullmq';
import type { InDoubtRule, PolicyStep } from '../domain/policy';
import type { StepOutcome } from '../domain/statuses';
import type { DueStep } from '../domain/step';
import type { RunnableStep } from '../scheduling/step.repository';

/** A step found early (its row moved later) goes back to the delayed set. */
export interface NotYetDue {
  notBefore: Date;
}

/** What a step run settled in its claiming transaction, and what must follow the commit. */
export interface Settled {
  outcome: StepOutcome | NotYetDue;
  /** The case's next step, to enqueue after commit. */
  next?: DueStep;
  /** Step jobs to withdraw after commit (a case that closed). */
  withdraw?: string[];
  /** The letters a letter step issued, for the run's metrics; their email status moves as they go out. */
  letters?: readonly IssuedLetter[];
  /** A send found interrupted by a crash, and what the policy did with it (for the metrics). */
  inDoubt?: InDoubtRule;
  /** Work after the commit (the send, the letters' emails, a webhook): it may settle the outcome and the next step. */
  afterCommit?: () => Promise<{ outcome?: StepOutcome; next?: DueStep }>;
}

/** A failure the claim already recorded on the step and the case's trail: the job fails for good, visibly, with nothing more to note. */
export class RecordedFailure extends UnrecoverableError {}

export type ActionName = PolicyStep['action'];

/** One kind of step, acting in the claiming transaction, which holds the step's and the case's locks. */
export interface StepAction<A extends ActionName> {
  act(tx: Tx, step: RunnableStep, definition: Extract<PolicyStep, { action: A }>): Promise<Settled>;
}

export type StepActionMap = { [A in ActionName]: StepAction<A> };
