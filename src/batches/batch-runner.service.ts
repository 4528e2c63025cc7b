import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { CaseRepository } from '../cases/case.repository';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Transactions, type Tx } from '../database/transactions';
import type { LetterType } from '../domain/letter-fields';
import type { DueStep } from '../domain/step';
import { type JobContext, OnJob } from '../jobs/job-handlers';
import { JobName } from '../jobs/job-names';
import { LetterRequests } from '../letters/letter-requests.service';
import type { LetterStep } from '../letters/letters.service';
import { CaseStandings } from '../cases/case-standings.service';
import { accountFigures } from '../domain/account';
import { StepRepository } from '../scheduling/step.repository';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import { BatchRepository, type ItemOutcome, type RunningBatch } from './batch.repository';

/** Letters are rendered one by one: smaller chunks keep each transaction short. */
const LETTER_CHUNK = 20;

type Item = { seq: number; caseId: string };

/**
 * Works a batch: takes the next pending items (SKIP LOCKED, so several drivers share a batch)
 * and applies the batch to their cases in one transaction per chunk, together with the items'
 * outcomes. A worker that dies mid-chunk leaves the chunk pending; no case is processed twice.
 */
@Injectable()
export class BatchRunner {
  private readonly logger = new Logger(BatchRunner.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly letters: LetterRequests,
    private readonly scheduler: StepScheduler,
    private readonly clock: Clock,
    private readonly batches: BatchRepository,
    private readonly cases: CaseRepository,
    private readonly steps: StepRepository,
    private readonly standings: CaseStandings,
  ) {}

  /** One run-batch job is one driver: it works the batch's chunks until none is left. */
  @OnJob(JobName.RunBatch)
  async handle({ job }: JobContext<JobName.RunBatch>): Promise<{ processed: number }> {
    return { processed: await this.run(job.data.batchId) };
  }

  /** Runs chunks until none is left; returns the number of items this driver processed. */
  async run(batchId: string): Promise<number> {
    await this.batches.start(batchId, this.clock.now());
    let processed = 0;
    for (;;) {
      const enqueue: DueStep[] = [];
      const count = await this.transactions.run(async (tx) => {
        const batch = await this.batches.running(tx, batchId);
        if (!batch || batch.status !== 'running') return 0;
        const items = await this.batches.takeItems(tx, batchId, batch.kind === 'dunning-run' ? this.config.BATCH_CHUNK : LETTER_CHUNK);
        if (items.length === 0) return 0;
        const outcomes = batch.kind === 'dunning-run' ? await this.dunningRun(tx, batch, items, enqueue) : await this.sendLetters(tx, batch, items, enqueue);
        await this.batches.recordOutcomes(tx, batchId, outcomes, this.clock.now());
        if (!batch.dryRun) {
          await this.audit.recordMany(
            tx,
            outcomes.map((o) => ({
              caseId: o.caseId,
              touches: [{ kind: 'batch.included' as const, actor: batch.createdBy, data: { batchId, kind: batch.kind, status: o.status, outcome: o.outcome } }],
            })),
          );
        }
        return items.length;
      });
      await this.scheduler.enqueue(enqueue);
      processed += count;
      if (count === 0) break;
    }
    if (await this.batches.complete(batchId, this.clock.now())) this.logger.log(`batch ${batchId} completed`);
    return processed;
  }

  /**
   * A dunning run as of a day: every pending step due by the end of that day (on the debtor's
   * calendar) runs now. Set-based over the chunk; a dry run only counts.
   */
  private async dunningRun(tx: Tx, batch: RunningBatch, items: Item[], enqueue: DueStep[]): Promise<ItemOutcome[]> {
    const cases = await this.cases.lockMany(
      tx,
      items.map((item) => item.caseId),
    );
    const statusOf = new Map(cases.map((c) => [c.id, c.status]));
    const active = cases.filter((c) => c.status === 'active').map((c) => c.id);
    const due = await this.steps.dueBy(tx, active, batch.asOf, batch.dryRun ? undefined : this.clock.now());
    enqueue.push(...due.map(({ id, dueAt }) => ({ id, dueAt })));
    const stepsOf = new Map<string, number>();
    for (const step of due) stepsOf.set(step.caseId, (stepsOf.get(step.caseId) ?? 0) + 1);
    return items.map(({ seq, caseId }): ItemOutcome => {
      const status = statusOf.get(caseId);
      if (status !== 'active') return { seq, caseId, status: 'skipped', outcome: status === 'on_hold' ? 'case on hold' : `case ${status}` };
      const steps = stepsOf.get(caseId) ?? 0;
      if (steps === 0) return { seq, caseId, status: 'skipped', outcome: `nothing due by ${batch.asOf}` };
      return { seq, caseId, status: 'done', outcome: `${batch.dryRun ? 'would run' : 'runs'} ${steps} step${steps === 1 ? '' : 's'} now` };
    });
  }

  /** Letters (or termination notices) to each case, one by one: each refusal stays with its case. */
  private async sendLetters(tx: Tx, batch: RunningBatch, items: Item[], enqueue: DueStep[]): Promise<ItemOutcome[]> {
    const letter: LetterType = batch.kind === 'terminations' ? 'contract-termination' : batch.letterType!;
    const outcomes: ItemOutcome[] = [];
    // Cases in id order, as every writer of several cases locks them.
    for (const { seq, caseId } of [...items].sort((a, b) => (a.caseId < b.caseId ? -1 : 1))) {
      const terms = await this.cases.lockTerms(tx, caseId);
      if (!terms || terms.status !== 'active') {
        outcomes.push({ seq, caseId, status: 'skipped', outcome: terms?.status === 'on_hold' ? 'case on hold' : `case ${terms?.status ?? 'missing'}` });
        continue;
      }
      // The figures the letter states, from the one account calculation.
      const amounts = accountFigures((await this.standings.of(tx, caseId, terms.money)).account);
      const step: LetterStep = { at: 'PT0S', action: 'letter', letter, deliver: ['email', 'post'] };
      if (batch.dryRun) {
        // A dry run says what the real one would: the same refusal, or the letter.
        const refusal = await this.letters.refusal(tx, terms, step);
        outcomes.push(
          refusal
            ? { seq, caseId, status: 'skipped', outcome: 'would not send', error: refusal, amounts }
            : { seq, caseId, status: 'done', outcome: `would send ${letter}`, amounts },
        );
        continue;
      }
      try {
        const issued = await this.transactions.savepoint(tx, () => this.letters.issueNow(tx, terms, step, batch.createdBy));
        enqueue.push({ id: issued.stepId, dueAt: this.clock.now() });
        outcomes.push({ seq, caseId, status: 'done', outcome: `sent ${letter} ${issued.letters.map((l) => l.number).join(', ')}`, amounts });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        outcomes.push({ seq, caseId, status: error.code === 'conflict' ? 'skipped' : 'failed', outcome: `not sent`, error: error.message, amounts });
      }
    }
    return outcomes;
  }
}
