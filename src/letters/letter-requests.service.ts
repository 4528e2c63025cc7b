import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { CaseRepository, type CaseTerms } from '../cases/case.repository';
import { CaseStandings } from '../cases/case-standings.service';
import { Clock } from '../common/clock';
import { DomainError, NotFound } from '../common/errors';
import { Transactions, type Tx } from '../database/transactions';
import { UndrawableText } from '../domain/letter-fields';
import { checkRequirements, hasRequirements, requirementsOf } from '../domain/requirements';
import { StepRepository } from '../scheduling/step.repository';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import { type Issued, type IssuedLetter, LetterService, type LetterStep } from './letters.service';

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
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly letters: LetterService,
    private readonly scheduler: StepScheduler,
    private readonly clock: Clock,
    private readonly cases: CaseRepository,
    private readonly steps: StepRepository,
    private readonly standings: CaseStandings,
  ) {}

  async request(
    caseId: string,
    step: LetterStep,
    actor: string,
  ): Promise<{ stepId: string; letters: Omit<IssuedLetter, 'pendingEmail'>[]; skipped: string[] }> {
    const issued = await this.transactions.run(async (tx) => {
      const terms = await this.cases.lockTerms(tx, caseId);
      if (!terms) throw new NotFound('case', caseId);
      return this.issueNow(tx, terms, step, actor);
    });
    await this.scheduler.enqueue([{ id: issued.stepId, dueAt: this.clock.now() }]);
    return { stepId: issued.stepId, letters: issued.letters.map(({ pendingEmail: _pending, ...letter }) => letter), skipped: issued.skipped };
  }

  /** Why the letter cannot go now: a letter by hand meets what the law asks of its kind, as a ladder step does. */
  async refusal(tx: Tx, terms: CaseTerms, step: LetterStep): Promise<string | null> {
    const requirements = requirementsOf(step);
    if (!hasRequirements(requirements)) return null;
    const { record } = await this.standings.of(tx, terms.id, terms.money);
    // By hand nothing waits: a refusal tells the operator why, now.
    const verdict = checkRequirements(requirements, record, this.clock.now(), terms.timezone);
    return verdict.kind === 'met' ? null : `a ${step.letter} letter cannot be sent now: ${verdict.reason}`;
  }

  /**
   * In the caller's transaction, on a locked case: adds the one-off step and issues its letters.
   * The caller enqueues the step (`stepId`, due now) once committed. Refusals are DomainErrors.
   */
  async issueNow(tx: Tx, terms: CaseTerms, step: LetterStep, actor: string): Promise<Issued> {
    const now = this.clock.now();
    const stepId = randomUUID();
    const caseId = terms.id;
    if (terms.status === 'on_hold') throw new DomainError('conflict', `case ${caseId} is on hold; release its holds before sending letters`);
    if (terms.status !== 'active') throw new DomainError('conflict', `case ${caseId} is ${terms.status}; letters go only to open cases`);
    const refusal = await this.refusal(tx, terms, step);
    if (refusal) throw new DomainError('conflict', refusal);
    const index = await this.steps.insertRequested(tx, { id: stepId, caseId, definition: step, at: now, by: actor }, FIRST_REQUESTED_INDEX);
    await this.audit.record(tx, caseId, [{ kind: 'step.scheduled', actor, data: { stepId, index, ...step, dueAt: now.toISOString(), requestedBy: actor } }]);
    try {
      const result = await this.letters.issue(tx, terms, stepId, step, actor);
      if (result.letters.length === 0) {
        // A guarantor notice lacks its recipients; any other letter a way to reach the debtor.
        const field = step.letter === 'guarantor-notice' ? 'body.type' : 'body.deliver';
        const reason = `no letter can be sent: ${result.skipped.join('; ')}`;
        throw new DomainError('unprocessable', `${field}: ${reason}`, [{ field, reason }]);
      }
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
