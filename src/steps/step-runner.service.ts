import { Injectable } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import { CaseStandings } from '../cases/case-standings.service';
import { Clock } from '../common/clock';
import { RunAlone, Transactions, type Tx } from '../database/transactions';
import { UndrawableText } from '../domain/letter-fields';
import type { PolicyStep } from '../domain/policy';
import { checkRequirements, hasRequirements, requirementsOf } from '../domain/requirements';
import type { StepOutcome } from '../domain/statuses';
import { guardStep } from '../domain/step-guard';
import type { StepRunFacts } from '../metrics/step-metrics';
import { LetterRepository } from '../letters/letter.repository';
import { type RunnableStep, StepRepository } from '../scheduling/step.repository';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import { EscalateAction } from './actions/escalate.action';
import { FeeAction } from './actions/fee.action';
import { LetterAction } from './actions/letter.action';
import { DeferAfterRollback, NoticeAction } from './actions/notice.action';
import { TerminateContractAction } from './actions/terminate-contract.action';
import { WriteOffAction } from './actions/write-off.action';
import { type NotYetDue, RecordedFailure, type Settled, type StepAction, type StepActionMap } from './step-action';
import { StepFailures } from './step-failures';
import { StepSettlement } from './step-settlement';

export type { NotYetDue } from './step-action';

/**
 * Runs one step: lock, guard, act (the step's action), and after the commit send, record and
 * plan the next step. Safe to run twice: the dispatch row's unique key means a step is sent at
 * most once, and a settled step is left alone.
 */
@Injectable()
export class StepRunner {
  private readonly actions: StepActionMap;

  constructor(
    private readonly clock: Clock,
    private readonly transactions: Transactions,
    private readonly steps: StepRepository,
    private readonly scheduler: StepScheduler,
    private readonly settlement: StepSettlement,
    private readonly failures: StepFailures,
    private readonly standings: CaseStandings,
    private readonly letters: LetterRepository,
    notice: NoticeAction,
    letter: LetterAction,
    fee: FeeAction,
    escalate: EscalateAction,
    terminateContract: TerminateContractAction,
    writeOff: WriteOffAction,
  ) {
    this.actions = { notice, letter, fee, escalate, 'terminate-contract': terminateContract, 'write-off': writeOff };
  }

  /**
   * `finalAttempt`: no retry follows a failure, so any failure (SMTP, database, template) is
   * recorded on the step before the job fails for good. `facts` is filled in with what the claim
   * read, for the worker's metrics.
   */
  async run(stepId: string, finalAttempt: boolean, facts: StepRunFacts = {}): Promise<StepOutcome | NotYetDue> {
    try {
      const settled = await this.claim(stepId, facts);
      if (settled.letters) facts.letters = settled.letters;
      if (settled.inDoubt) facts.inDoubt = settled.inDoubt;
      const after = await settled.afterCommit?.();
      const next = after?.next ?? settled.next;
      if (next) await this.scheduler.enqueue([next]);
      if (settled.withdraw) await this.scheduler.withdraw(settled.withdraw);
      return after?.outcome ?? settled.outcome;
    } catch (error) {
      if (error instanceof RecordedFailure) throw error;
      // A letter the fonts cannot draw, or a message the provider refuses for good (a 4xx), fails
      // the same way on every attempt: fail it now, visibly.
      const undrawable = error instanceof UndrawableText;
      await this.failures.record(stepId, error as Error, finalAttempt || undrawable || error instanceof UnrecoverableError);
      throw undrawable ? new UnrecoverableError((error as Error).message) : error;
    }
  }

  /**
   * Locks the step and its case, guards, and acts; a contact cap found by the claim rolls it back
   * and defers the step. Claims of notices run at the same moment share one transaction.
   */
  private claim(stepId: string, facts: StepRunFacts): Promise<Settled> {
    return this.transactions
      .runGathered(async (tx, shared): Promise<Settled> => {
        const step = await this.steps.lockForRun(tx, stepId);
        if (step) {
          facts.action = step.definition.action;
          if (step.definition.action === 'notice') facts.channel = step.definition.channel;
          facts.dueAt = step.dueAt;
          facts.startedAt = this.clock.now();
        }
        const verdict = guardStep(step && { status: step.status, dueAt: step.dueAt, caseStatus: step.case.status }, this.clock.now());
        switch (verdict.kind) {
          case 'missing':
            return { outcome: 'missing' };
          case 'settled':
            return { outcome: `already-${verdict.status}` };
          case 'cancel':
            return this.settlement.cancel(tx, step!, verdict.reason);
          case 'held':
            return { outcome: 'held' };
          case 'early':
            return { outcome: { notBefore: verdict.notBefore } };
          case 'act':
            // The debtor's contact lock belongs to the transaction, so works sharing one would not
            // wait for each other: only notices, whose claims are gathered per debtor, may share.
            // A letter reads the contact history long before it writes its email's dispatch.
            if (shared && step!.definition.action !== 'notice') throw new RunAlone();
            return this.actIfAllowed(tx, step!);
        }
      })
      .catch((error: unknown) => {
        if (!(error instanceof DeferAfterRollback)) throw error;
        return this.transactions.run(async (tx): Promise<Settled> => {
          const step = (await this.steps.lockForRun(tx, stepId))!;
          const verdict = guardStep({ status: step.status, dueAt: step.dueAt, caseStatus: step.case.status }, this.clock.now());
          return verdict.kind === 'settled' ? { outcome: `already-${verdict.status}` } : this.settlement.defer(tx, step, error.channel, error.decision);
        });
      });
  }

  /**
   * Acts unless the case's legal record fails the step's requirements: then it is skipped or
   * waits, with the reason. A letter step that already issued its letters (a retry, or a letter
   * requested by hand) is past that check: its own termination must not stop its emails.
   */
  private async actIfAllowed(tx: Tx, step: RunnableStep): Promise<Settled> {
    const requirements = requirementsOf(step.definition);
    const issued = step.definition.action === 'letter' && (await this.letters.ofStep(tx, step.id)).length > 0;
    if (hasRequirements(requirements) && !issued) {
      const { record } = (await this.standings.ofCase(tx, step.caseId))!;
      const planned = requirements.demandDelivered !== undefined && (await this.steps.demandPlanned(tx, step.caseId, step.id));
      const verdict = checkRequirements(requirements, record, this.clock.now(), step.debtor.timezone, planned);
      if (verdict.kind === 'skip') return this.settlement.skip(tx, step, verdict.reason);
      if (verdict.kind === 'wait') return this.settlement.wait(tx, step, verdict.until, verdict.reason);
    }
    return this.act(tx, step, step.definition);
  }

  /** The step's own action (the definition's `action` picks it). */
  private act<A extends PolicyStep['action']>(tx: Tx, step: RunnableStep, definition: Extract<PolicyStep, { action: A }>): Promise<Settled> {
    return (this.actions[definition.action] as StepAction<A>).act(tx, step, definition);
  }
}
