import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { CaseRepository } from '../../cases/case.repository';
import { EmailAddressRepository } from '../../channels/email/email-address.repository';
import { DispatchRepository } from '../../channels/dispatch.repository';
import { Clock } from '../../common/clock';
import { ContactGate } from '../../compliance/contact-gate.service';
import { Transactions, type Tx } from '../../database/transactions';
import { routeLetter } from '../../domain/delivery-status';
import { SKIP_REASONS } from '../../domain/statuses';
import type { InDoubtRule } from '../../domain/policy';
import { type Issued, LetterInDoubt, LetterService, type LetterStep } from '../../letters/letters.service';
import { type RunnableStep, StepRepository } from '../../scheduling/step.repository';
import { RecordedFailure, type Settled, type StepAction } from '../step-action';
import { StepSettlement } from '../step-settlement';

/**
 * A letter step. Letters are legally required notices, so a debtor who asked to cease contact
 * still gets them, by post only. Emailing the debtor passes the contact gate first; the letters'
 * emails go out after the claim commits, and the step is done once they have.
 */
@Injectable()
export class LetterAction implements StepAction<'letter'> {
  constructor(
    private readonly clock: Clock,
    private readonly transactions: Transactions,
    private readonly gate: ContactGate,
    private readonly cases: CaseRepository,
    private readonly dispatches: DispatchRepository,
    private readonly steps: StepRepository,
    private readonly letters: LetterService,
    private readonly settlement: StepSettlement,
    private readonly addresses: EmailAddressRepository,
    private readonly audit: AuditService,
  ) {}

  async act(tx: Tx, step: RunnableStep, definition: LetterStep): Promise<Settled> {
    const toDebtor = definition.letter !== 'guarantor-notice';
    const asked = toDebtor && step.debtor.ceaseContact ? definition.deliver.filter((channel) => channel !== 'email') : definition.deliver;
    if (asked.length === 0) return this.settlement.skip(tx, step, SKIP_REASONS.emailOnlyLetter);
    // An email to the debtor's address that bounced for good or complained goes by post, or not at all.
    const address = toDebtor && step.debtor.email && asked.includes('email') ? await this.addresses.statusOf(tx, step.debtor.email) : null;
    const route = routeLetter(address, asked, definition.fallback);
    if ('skip' in route) return this.settlement.skip(tx, step, route.skip);
    const { deliver } = route;
    // Said once: a rerun finds the step running (its letters issued) and has said why already.
    if (route.rerouted && step.status !== 'running') {
      await this.audit.record(tx, step.caseId, [
        {
          kind: 'step.rerouted',
          actor: 'system',
          channel: 'post',
          data: { stepId: step.id, index: step.index, action: 'letter', letter: definition.letter, from: asked, to: deliver, reason: route.rerouted },
        },
      ]);
    }
    if (deliver.includes('email')) {
      // The debtor's emails count against the debtor's caps; guarantors keep to the same hours
      // and days (we know no zone of theirs) but are not the debtor's contacts.
      const subject = { debtorId: step.debtor.id, stepId: step.id, timezone: step.debtor.timezone, country: step.debtor.country, channel: 'email' as const };
      const history = toDebtor && step.debtor.email ? await this.dispatches.contactHistory(tx, step.debtor.id, this.gate.historySince(), step.id) : [];
      const decision = toDebtor && !step.debtor.email ? { allowed: true as const } : this.gate.decide(subject, history);
      if (!decision.allowed) return this.settlement.defer(tx, step, 'email', decision);
    }
    await this.steps.markRunning(tx, step.id, this.clock.now());
    const terms = (await this.cases.lockTerms(tx, step.caseId))!;
    const issued = await this.letters.issue(tx, terms, step.id, { ...definition, deliver }, step.requestedBy ?? 'system');
    if (issued.letters.length === 0) return this.settlement.skip(tx, step, `no letter issued: ${issued.skipped.join('; ')}`);
    return { outcome: 'issued', letters: issued.letters, afterCommit: async () => ({ next: await this.deliver(issued, definition.inDoubt) }) };
  }

  /** Sends the letters' emails, then marks the step done; returns the case's next step. */
  private async deliver(issued: Issued, inDoubt: InDoubtRule | undefined) {
    try {
      await this.letters.deliverEmails(issued, inDoubt ?? 'hold', (tx) => this.steps.finish(tx, issued.stepId, 'failed', 'in doubt', this.clock.now()));
    } catch (error) {
      // Recorded on the trail with the step failed: the job fails for good, visibly, until an operator retries it.
      throw error instanceof LetterInDoubt ? new RecordedFailure(error.message) : error;
    }
    const outcome = issued.skipped.length > 0 ? `issued; ${issued.skipped.join('; ')}` : 'issued';
    return this.transactions.run(async (tx) => {
      await this.steps.finishLetters(tx, issued.stepId, outcome, this.clock.now());
      return this.steps.nextWaiting(tx, issued.caseId, issued.stepId);
    });
  }
}
