import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { updateReturning } from '../database/sql';
import { type JobContext, OnJob } from '../jobs/job-handlers';
import { JobName } from '../jobs/job-names';
import { lockCaseTerms } from '../letters/case-terms';
import type { LetterType } from '../domain/letter-fields';
import { LetterRequests } from '../letters/letter-requests.service';
import { DueStep, StepScheduler } from '../scheduling/step-scheduler.service';
import { asOfEndSql } from './batches.service';

interface BatchRow {
  id: string;
  kind: 'dunning-run' | 'letters' | 'terminations';
  status: string;
  as_of: string;
  letter_type: LetterType | null;
  dry_run: boolean;
  created_by: string;
}

interface ItemOutcome {
  seq: number;
  caseId: string;
  status: 'done' | 'failed' | 'skipped';
  outcome: string;
  error?: string;
}

/** Letters are rendered one by one: smaller chunks keep each transaction short. */
const LETTER_CHUNK = 20;

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
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly letters: LetterRequests,
    private readonly scheduler: StepScheduler,
    private readonly clock: Clock,
  ) {}

  /** One run-batch job is one driver: it works the batch's chunks until none is left. */
  @OnJob(JobName.RunBatch)
  async handle({ job }: JobContext<JobName.RunBatch>): Promise<{ processed: number }> {
    return { processed: await this.run(job.data.batchId) };
  }

  /** Runs chunks until none is left; returns the number of items this driver processed. */
  async run(batchId: string): Promise<number> {
    await this.dataSource.query(`UPDATE batches SET status = 'running', started_at = COALESCE(started_at, $2) WHERE id = $1 AND status = 'queued'`, [
      batchId,
      this.clock.now(),
    ]);
    let processed = 0;
    for (;;) {
      const enqueue: DueStep[] = [];
      const count = await this.dataSource.transaction(async (m) => {
        const [batch]: BatchRow[] = await m.query(
          `SELECT id, kind, status, to_char(as_of, 'YYYY-MM-DD') AS as_of, letter_type, dry_run, created_by FROM batches WHERE id = $1`,
          [batchId],
        );
        if (!batch || batch.status !== 'running') return 0;
        const items: { seq: number; case_id: string }[] = await m.query(
          `SELECT seq, case_id FROM batch_items WHERE batch_id = $1 AND status = 'pending' ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [batchId, batch.kind === 'dunning-run' ? this.config.BATCH_CHUNK : LETTER_CHUNK],
        );
        if (items.length === 0) return 0;
        const outcomes = batch.kind === 'dunning-run' ? await this.dunningRun(m, batch, items, enqueue) : await this.sendLetters(m, batch, items, enqueue);
        await m.query(
          `UPDATE batch_items i SET status = o.status, outcome = o.outcome, error = o.error, processed_at = $2
           FROM unnest($3::int[], $4::text[], $5::text[], $6::text[]) AS o(seq, status, outcome, error) WHERE i.batch_id = $1 AND i.seq = o.seq`,
          [
            batchId,
            this.clock.now(),
            outcomes.map((o) => o.seq),
            outcomes.map((o) => o.status),
            outcomes.map((o) => o.outcome),
            outcomes.map((o) => o.error ?? null),
          ],
        );
        if (!batch.dry_run) {
          await this.audit.recordMany(
            m,
            outcomes.map((o) => ({
              caseId: o.caseId,
              touches: [
                { kind: 'batch.included' as const, actor: batch.created_by, data: { batchId, kind: batch.kind, status: o.status, outcome: o.outcome } },
              ],
            })),
          );
        }
        return items.length;
      });
      await this.scheduler.enqueue(enqueue);
      processed += count;
      if (count === 0) break;
    }
    await this.finish(batchId);
    return processed;
  }

  /** The last driver out marks the batch completed (a cancelled batch stays cancelled). */
  private async finish(batchId: string): Promise<void> {
    const [finished] = await updateReturning<{ id: string }>(
      this.dataSource.manager,
      `UPDATE batches SET status = 'completed', finished_at = $2 WHERE id = $1 AND status = 'running'
         AND NOT EXISTS (SELECT 1 FROM batch_items WHERE batch_id = $1 AND status = 'pending') RETURNING id`,
      [batchId, this.clock.now()],
    );
    if (finished) this.logger.log(`batch ${batchId} completed`);
  }

  /**
   * A dunning run as of a day: every pending step due by the end of that day (on the debtor's
   * calendar) runs now. Set-based over the chunk; a dry run only counts.
   */
  private async dunningRun(m: EntityManager, batch: BatchRow, items: { seq: number; case_id: string }[], enqueue: DueStep[]): Promise<ItemOutcome[]> {
    const ids = items.map((item) => item.case_id);
    const cases: { id: string; status: string }[] = await m.query(`SELECT id, status FROM cases WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [ids]);
    const statusOf = new Map(cases.map((c) => [c.id, c.status]));
    const active = cases.filter((c) => c.status === 'active').map((c) => c.id);
    const now = this.clock.now();
    const due: { case_id: string; id: string; due_at: Date }[] = batch.dry_run
      ? await m.query(
          `SELECT s.case_id, s.id, s.due_at FROM scheduled_steps s JOIN cases c ON c.id = s.case_id JOIN debtors d ON d.id = c.debtor_id
           WHERE s.case_id = ANY($1::uuid[]) AND s.status = 'pending' AND s.due_at <= ${asOfEndSql('$2')}`,
          [active, batch.as_of],
        )
      : await updateReturning(
          m,
          `UPDATE scheduled_steps s SET due_at = LEAST(s.due_at, $3), updated_at = $3 FROM cases c JOIN debtors d ON d.id = c.debtor_id
           WHERE c.id = s.case_id AND s.case_id = ANY($1::uuid[]) AND s.status = 'pending' AND s.due_at <= ${asOfEndSql('$2')}
           RETURNING s.case_id, s.id, s.due_at`,
          [active, batch.as_of, now],
        );
    enqueue.push(...due.map((step) => ({ id: step.id, dueAt: step.due_at })));
    const stepsOf = new Map<string, number>();
    for (const step of due) stepsOf.set(step.case_id, (stepsOf.get(step.case_id) ?? 0) + 1);
    return items.map(({ seq, case_id: caseId }) => {
      const status = statusOf.get(caseId);
      if (status !== 'active') return { seq, caseId, status: 'skipped', outcome: status === 'on_hold' ? 'case on hold' : `case ${status}` };
      const steps = stepsOf.get(caseId) ?? 0;
      if (steps === 0) return { seq, caseId, status: 'skipped', outcome: `nothing due by ${batch.as_of}` };
      return { seq, caseId, status: 'done', outcome: `${batch.dry_run ? 'would run' : 'runs'} ${steps} step${steps === 1 ? '' : 's'} now` };
    });
  }

  /** Letters (or termination notices) to each case, one by one: each refusal stays with its case. */
  private async sendLetters(m: EntityManager, batch: BatchRow, items: { seq: number; case_id: string }[], enqueue: DueStep[]): Promise<ItemOutcome[]> {
    const letter: LetterType = batch.kind === 'terminations' ? 'contract-termination' : batch.letter_type!;
    const outcomes: ItemOutcome[] = [];
    for (const { seq, case_id: caseId } of [...items].sort((a, b) => (a.case_id < b.case_id ? -1 : 1))) {
      const terms = await lockCaseTerms(m, caseId);
      if (!terms || terms.status !== 'active') {
        outcomes.push({ seq, caseId, status: 'skipped', outcome: terms?.status === 'on_hold' ? 'case on hold' : `case ${terms?.status ?? 'missing'}` });
        continue;
      }
      if (batch.dry_run) {
        outcomes.push({ seq, caseId, status: 'done', outcome: `would send ${letter}` });
        continue;
      }
      await m.query('SAVEPOINT batch_item');
      try {
        const issued = await this.letters.issueNow(m, terms, { at: 'PT0S', action: 'letter', letter, deliver: ['email', 'post'] }, batch.created_by);
        await m.query('RELEASE SAVEPOINT batch_item');
        enqueue.push({ id: issued.stepId, dueAt: this.clock.now() });
        outcomes.push({ seq, caseId, status: 'done', outcome: `sent ${letter} ${issued.letters.map((l) => l.number).join(', ')}` });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        await m.query('ROLLBACK TO SAVEPOINT batch_item');
        outcomes.push({ seq, caseId, status: error.code === 'conflict' ? 'skipped' : 'failed', outcome: `not sent`, error: error.message });
      }
    }
    return outcomes;
  }
}
