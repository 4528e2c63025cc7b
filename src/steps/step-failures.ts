import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { DispatchRepository } from '../channels/dispatch.repository';
import { SentButUnrecorded } from '../channels/sent-but-unrecorded';
import { Clock } from '../common/clock';
import { OutcomeKeeper } from '../database/outcome-keeper';
import { Transactions, type Tx } from '../database/transactions';
import { UndrawableText } from '../domain/letter-fields';
import { isSettled } from '../domain/statuses';
import { LetterRepository } from '../letters/letter.repository';
import { StepRepository } from '../scheduling/step.repository';

type FailingStep = NonNullable<Awaited<ReturnType<StepRepository['lockForFailure']>>>;

/** How a failed step run is recorded: on the step and its dispatch, and for good on the case's trail. */
@Injectable()
export class StepFailures {
  private readonly logger = new Logger(StepFailures.name);

  constructor(
    private readonly clock: Clock,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly steps: StepRepository,
    private readonly dispatches: DispatchRepository,
    private readonly letters: LetterRepository,
    private readonly keeper: OutcomeKeeper,
  ) {}

  /**
   * Notes a failed run on the step (and its dispatch, if one was written). On the final attempt the
   * step becomes `failed` and a notice records `notice.failed`, a letter `letter.failed`, so no
   * failure goes unrecorded. Never throws: the database may be what failed, and the job's own
   * failure stays visible in the queue.
   */
  async record(stepId: string, error: Error, finalAttempt: boolean): Promise<void> {
    const message = error.message.slice(0, 500);
    // SMTP replies often quote the recipient; keep addresses out of the log.
    const logged = message.replace(/[^\s<>@]+@[^\s<>@]+/g, '[address]');
    this.logger.warn(`step ${stepId}: run failed${finalAttempt ? ' (final attempt)' : ', will retry'}: ${logged}`);
    try {
      // The failure is an outcome too: noted before the job may retry, across a database restart.
      await this.keeper.keep(`step ${stepId}: the failure's record`, () =>
        this.transactions.run(async (tx) => {
          const step = await this.steps.lockForFailure(tx, stepId);
          // `failed`: a final failure already recorded (a retry of a recording whose answer was lost).
          if (!step || isSettled(step.status) || step.status === 'failed') return;
          if (error instanceof SentButUnrecorded) return this.noteUnrecorded(tx, step, error, message, finalAttempt);
          const dispatch = await this.dispatches.noteFailure(tx, stepId, message, finalAttempt);
          await this.steps.noteFailure(tx, stepId, message, !finalAttempt);
          if (!finalAttempt) return;
          await this.steps.finish(tx, stepId, 'failed', dispatch ? 'send failed' : 'run failed', this.clock.now());
          if (step.action === 'notice') {
            await this.audit.record(tx, step.caseId, [
              {
                kind: 'notice.failed',
                actor: 'system',
                channel: step.channel,
                data: { stepId, index: step.index, dispatchId: dispatch?.id ?? null, attempts: dispatch?.attempts ?? null, error: message },
              },
            ]);
          } else if (step.action === 'letter') {
            const letters = await this.letters.failPendingEmails(tx, stepId);
            const undrawable = error instanceof UndrawableText ? { undrawable: error.characters } : {};
            await this.audit.record(tx, step.caseId, [
              {
                kind: 'letter.failed',
                actor: 'system',
                channel: dispatch ? 'email' : null,
                data: { stepId, index: step.index, letters, error: message, ...undrawable },
              },
            ]);
          }
        }),
      );
    } catch (recordError) {
      this.logger.error(`step ${stepId}: could not record the failure: ${(recordError as Error).message}`);
    }
  }

  /**
   * The message went out but its record did not: the dispatch stays `sending`, so that the retry
   * finds the send in doubt instead of sending it as new; after the last attempt it is held in
   * doubt for an operator.
   */
  private async noteUnrecorded(tx: Tx, step: FailingStep, error: SentButUnrecorded, message: string, finalAttempt: boolean): Promise<void> {
    await this.steps.noteFailure(tx, step.id, message, !finalAttempt);
    if (!finalAttempt) return;
    await this.dispatches.markInDoubt(tx, error.dispatchId);
    await this.steps.finish(tx, step.id, 'failed', 'in doubt', this.clock.now());
    await this.audit.record(tx, step.caseId, [
      {
        kind: step.action === 'letter' ? 'letter.in_doubt' : 'notice.in_doubt',
        actor: 'system',
        channel: step.action === 'letter' ? 'email' : step.channel,
        data: { stepId: step.id, index: step.index, dispatchId: error.dispatchId, messageId: error.messageId, resolution: 'held', error: message },
      },
    ]);
  }
}
