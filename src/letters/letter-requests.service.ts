import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { DomainError, NotFound } from '../common/errors';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import { type CaseTerms, lockCaseTerms } from './case-terms';
import { UndrawableText } from '../domain/letter-fields';
import { type Issued, IssuedLetter, LetterService, LetterStep } from './letters.service';

/** Ad-hoc steps sit after the ladder's indexes, so a schedule lists them last. */
const FIRST_REQUESTED_INDEX = 1000;

/**
 * An operator's "send this letter now": a one-off step outside the ladder. The letter is issued
 * (numbered, rendered, stored) in the request, so the answer names it; its emails go out through
 * the step queue, with the same retries and failure record as the ladder's letters.
 */
@Injectable()
export class LetterRequests {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly letters: LetterService,
    private readonly scheduler: StepScheduler,
    private readonly clock: Clock,
  ) {}

  async request(
    caseId: string,
    step: LetterStep,
    actor: string,
  ): Promise<{ stepId: string; letters: Omit<IssuedLetter, 'pendingEmail'>[]; skipped: string[] }> {
    const issued = await this.dataSource.transaction(async (m) => {
      const terms = await lockCaseTerms(m, caseId);
      if (!terms) throw new NotFound('case', caseId);
      return this.issueNow(m, terms, step, actor);
    });
    await this.scheduler.enqueue([{ id: issued.stepId, dueAt: this.clock.now() }]);
    return { stepId: issued.stepId, letters: issued.letters.map(({ pendingEmail: _pending, ...letter }) => letter), skipped: issued.skipped };
  }

  /**
   * In the caller's transaction, on a locked case: adds the one-off step and issues its letters.
   * The caller enqueues the step (`stepId`, due now) once committed. Refusals are DomainErrors.
   */
  async issueNow(m: EntityManager, terms: CaseTerms, step: LetterStep, actor: string): Promise<Issued> {
    const now = this.clock.now();
    const stepId = randomUUID();
    const caseId = terms.id;
    if (terms.status === 'on_hold') throw new DomainError('conflict', `case ${caseId} is on hold; release its holds before sending letters`);
    if (terms.status !== 'active') throw new DomainError('conflict', `case ${caseId} is ${terms.status}; letters go only to open cases`);
    const [{ index }] = await m.query(`SELECT GREATEST($2::int, COALESCE(max(step_index) + 1, 0)) AS index FROM scheduled_steps WHERE case_id = $1`, [
      caseId,
      FIRST_REQUESTED_INDEX,
    ]);
    await m.query(
      `INSERT INTO scheduled_steps (id, case_id, step_index, action, definition, due_at, status, requested_by, updated_at)
       VALUES ($1, $2, $3, 'letter', $4, $5, 'pending', $6, $5)`,
      [stepId, caseId, index, JSON.stringify(step), now, actor],
    );
    await this.audit.record(m, caseId, [{ kind: 'step.scheduled', actor, data: { stepId, index, ...step, dueAt: now.toISOString(), requestedBy: actor } }]);
    try {
      const result = await this.letters.issue(m, terms, stepId, step, actor);
      if (result.letters.length === 0) throw new DomainError('unprocessable', `no letter can be sent: ${result.skipped.join('; ')}`);
      return result;
    } catch (error) {
      if (!(error instanceof UndrawableText)) throw error;
      throw new DomainError(
        'unprocessable',
        error.message,
        error.characters.map((c) => ({ field: c.field, reason: `contains ${c.codePoint} (${c.char}), which the letter fonts cannot draw` })),
      );
    }
  }
}
