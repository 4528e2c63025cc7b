import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { CaseTerms } from '../cases/case.repository';
import { Contracts } from '../cases/contracts.service';
import { FeeRepository } from '../cases/fee.repository';
import { GuarantorRepository } from '../cases/guarantor.repository';
import { DispatchRepository } from '../channels/dispatch.repository';
import { EmailTemplates, pickLocale } from '../channels/email/email-templates';
import { Mailer } from '../channels/email/mailer.service';
import { unsubscribeHeaders, unsubscribeLink } from '../channels/unsubscribe-link';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Transactions, type Tx } from '../database/transactions';
import { localDate } from '../domain/calendar';
import { accruedFee } from '../domain/accrued-fee';
import { addPeriod } from '../domain/legal-clocks';
import type { LetterFields, LetterLocale, LetterType } from '../domain/letter-fields';
import { formatMinorUnits, toMinorUnits } from '../domain/money';
import type { PolicyStep } from '../domain/policy';
import type { TouchInput } from '../domain/touch-kinds';
import { LetterRenderer } from './letter-pdf';
import { LetterRepository, type LetterState } from './letter.repository';

export type LetterStep = Extract<PolicyStep, { action: 'letter' }>;

interface Recipient {
  role: 'debtor' | 'guarantor';
  id: string;
  name: string;
  email: string | null;
  address: Record<string, string> | null;
  guaranteeEndsOn: string | null;
}

/** A letter as issued, with what is left to deliver by email. */
export interface IssuedLetter {
  id: string;
  number: string;
  type: LetterType;
  recipient: { role: 'debtor' | 'guarantor'; id: string; name: string };
  sha256: string;
  email: LetterState['emailStatus'];
  post: LetterState['postStatus'];
  /** Set while the email still has to go out. */
  pendingEmail?: { dispatchId: string; messageId: string; to: string };
}

export interface Issued {
  caseId: string;
  stepId: string;
  letters: IssuedLetter[];
  /** Why recipients got no letter (no delivery channel available, no guarantor…). */
  skipped: string[];
}

/**
 * Issues letters (render once, number, keep the exact bytes and their hash) and delivers them:
 * by email with the PDF attached, and by post through a print-and-mail vendor's queue.
 * Issuing is idempotent per step and recipient, so a retried step re-sends the same bytes.
 */
@Injectable()
export class LetterService {
  private readonly messageDomain: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly renderer: LetterRenderer,
    private readonly emailTemplates: EmailTemplates,
    private readonly mailer: Mailer,
    private readonly clock: Clock,
    private readonly letters: LetterRepository,
    private readonly dispatches: DispatchRepository,
    private readonly guarantors: GuarantorRepository,
    private readonly fees: FeeRepository,
    private readonly contracts: Contracts,
  ) {
    this.messageDomain = /@([^>\s]+)/.exec(config.MAIL_FROM)?.[1] ?? 'dunning.local';
  }

  /**
   * Issues the step's letters in the caller's transaction, which holds the case lock (`terms`).
   * Letters already issued for this step are returned as they are.
   */
  async issue(tx: Tx, terms: CaseTerms, stepId: string, step: LetterStep, actor: string): Promise<Issued> {
    const now = this.clock.now();
    const existing = await this.letters.ofStep(tx, stepId);
    const done = new Set(existing.map((row) => row.recipientId));
    const recipients = await this.recipients(tx, terms, step.letter);
    const skipped: string[] = recipients.length === 0 ? ['the case has no guarantor to notify'] : [];
    const touches: TouchInput[] = [];
    const issued = existing.map(toIssued);
    const locale = pickLocale(terms.debtor.locale, this.config.DEFAULT_LOCALE);

    for (const recipient of recipients.filter((r) => !done.has(r.id))) {
      const byEmail = step.deliver.includes('email') && recipient.email !== null;
      const byPost = step.deliver.includes('post') && recipient.address !== null;
      if (!byEmail && !byPost) {
        skipped.push(`${recipient.role} ${recipient.id} has no ${step.deliver.map((c) => (c === 'email' ? 'email address' : 'postal address')).join(' or ')}`);
        continue;
      }
      const id = randomUUID();
      const n = await this.letters.nextNumber(tx);
      const date = localDate(now, terms.timezone);
      const fields = await this.fields(tx, terms, step, recipient, locale, `L-${date.slice(0, 4)}-${String(n).padStart(6, '0')}`, date);
      const rendered = await this.renderer.render(fields, now);
      const sha256 = createHash('sha256').update(rendered.pdf).digest('hex');
      const emailStatus = step.deliver.includes('email') ? (byEmail ? 'pending' : 'skipped') : null;
      const postStatus = step.deliver.includes('post') ? (byPost ? 'queued' : 'skipped') : null;
      const dispatchId = byEmail ? randomUUID() : null;
      const messageId = dispatchId ? `<${dispatchId}@${this.messageDomain}>` : null;
      if (dispatchId && messageId) {
        // The dispatch row is the email's dedupe key, as for notices.
        await this.dispatches.insert(tx, {
          id: dispatchId,
          caseId: terms.id,
          stepId,
          channel: 'email',
          recipient: recipient.email!,
          purpose: { kind: 'letter-email', recipientId: recipient.id },
          messageId,
          debtorId: recipient.role === 'debtor' ? recipient.id : null,
          at: now,
        });
      }
      await this.letters.insert(tx, {
        id,
        caseId: terms.id,
        stepId,
        number: fields.number,
        type: step.letter,
        recipient,
        locale,
        templateKey: rendered.templateKey,
        templateVersion: rendered.templateVersion,
        fields,
        pdf: rendered.pdf,
        sha256,
        deliver: step.deliver,
        emailStatus,
        emailDispatchId: dispatchId,
        postStatus,
        at: now,
        by: actor,
      });
      const letter: IssuedLetter = {
        id,
        number: fields.number,
        type: step.letter,
        recipient: { role: recipient.role, id: recipient.id, name: recipient.name },
        sha256,
        email: emailStatus,
        post: postStatus,
        ...(dispatchId && messageId ? { pendingEmail: { dispatchId, messageId, to: recipient.email! } } : {}),
      };
      issued.push(letter);
      const evidence = {
        stepId,
        letterId: id,
        number: fields.number,
        type: step.letter,
        recipient: letter.recipient,
        sha256,
        templateKey: rendered.templateKey,
        templateVersion: rendered.templateVersion,
        locale,
      };
      if (byPost) touches.push({ kind: 'letter.sent', actor, channel: 'post', data: { ...evidence, delivery: 'queued', address: recipient.address } });
      if (step.letter === 'contract-termination')
        touches.push(...(await this.contracts.terminate(tx, terms, actor, now, { letterId: id, number: fields.number })));
    }
    await this.audit.record(tx, terms.id, touches);
    return { caseId: terms.id, stepId, letters: issued, skipped };
  }

  /**
   * Sends each letter still waiting for its email (PDF attached) and records `letter.sent` after
   * each accepted send, so a retry sends only what has not gone out.
   */
  async deliverEmails(issued: Issued): Promise<void> {
    for (const letter of issued.letters) {
      const email = letter.pendingEmail;
      if (!email) continue;
      const row = (await this.letters.forEmail(letter.id))!;
      if (row.dispatchStatus !== 'sent') {
        await this.dispatches.countAttempt(email.dispatchId);
        const cover = this.coverEmail(row, email);
        await this.mailer.send({
          ...cover,
          headers: { ...cover.headers, 'X-Dunning-Case': issued.caseId, 'X-Dunning-Dispatch': email.dispatchId, 'X-Dunning-Letter': row.number },
        });
      }
      await this.transactions.run(async (tx) => {
        const head = await this.audit.lockHead(tx, issued.caseId);
        const marked = await this.letters.markEmailSent(tx, letter.id);
        await this.dispatches.markSent(tx, email.dispatchId, this.clock.now());
        if (!marked) return;
        await this.audit.record(
          tx,
          issued.caseId,
          [
            {
              kind: 'letter.sent',
              actor: 'system',
              channel: 'email',
              data: {
                stepId: issued.stepId,
                letterId: row.id,
                number: row.number,
                type: row.type,
                recipient: { role: row.recipientRole, id: row.recipientId, name: row.recipientName },
                dispatchId: email.dispatchId,
                messageId: email.messageId,
                sha256: row.sha256,
                templateKey: row.templateKey,
                templateVersion: row.templateVersion,
                locale: row.locale,
                delivery: 'accepted',
              },
            },
          ],
          head,
        );
      });
      letter.email = 'sent';
      delete letter.pendingEmail;
    }
  }

  /** The letter's recipients: the debtor, or every guarantor for a guarantor notice (never the debtor). */
  private async recipients(tx: Tx, terms: CaseTerms, type: LetterType): Promise<Recipient[]> {
    if (type !== 'guarantor-notice') {
      const { id, name, email, address } = terms.debtor;
      return [{ role: 'debtor', id, name, email, address, guaranteeEndsOn: null }];
    }
    return (await this.guarantors.ofCase(tx, terms.id)).map((g) => ({ role: 'guarantor', ...g }));
  }

  private async fields(
    tx: Tx,
    terms: CaseTerms,
    step: LetterStep,
    recipient: Recipient,
    locale: LetterLocale,
    number: string,
    date: string,
  ): Promise<LetterFields> {
    const history = await this.letters.history(tx, terms.id, terms.timezone);
    const fee = accruedFee(terms, this.clock.now());
    const money = (minor: bigint) => formatMinorUnits(minor, terms.currency);
    // A letter claims the late fee accrued to its date plus other charges; without a rate, the fees assessed so far.
    const fees = fee ? toMinorUnits(fee.accrued, terms.currency)! + (await this.fees.total(tx, terms.id, false)) : terms.feesMinor;
    const creditorEmail = this.config.CREDITOR_CONTACT_EMAIL ?? /<([^>]+)>/.exec(this.config.MAIL_FROM)?.[1] ?? null;
    return {
      type: step.letter,
      locale,
      number,
      date,
      creditor: {
        name: this.config.CREDITOR_NAME,
        address: this.config.CREDITOR_ADDRESS ?? null,
        contactName: this.config.CREDITOR_CONTACT_NAME,
        contactPhone: this.config.CREDITOR_CONTACT_PHONE ?? null,
        contactEmail: creditorEmail,
      },
      recipient: { role: recipient.role, name: recipient.name, address: recipient.address },
      debtor: { name: terms.debtor.name },
      contract: { ref: terms.contractRef, date: terms.contractDate },
      invoice: { ref: terms.invoiceRef, dueDate: terms.dueDate ?? localDate(terms.dueAt, terms.timezone) },
      currency: terms.currency,
      principal: money(terms.principalMinor),
      outstanding: money(terms.balanceMinor),
      fee,
      totalDue: money(terms.balanceMinor + fees),
      deadline: addPeriod(date, step.deadline ?? this.config.LETTER_DEADLINE),
      documents: step.documents ?? [],
      previousLetters: history.letters,
      noticesSent: history.notices,
      guaranteeEndsOn: recipient.guaranteeEndsOn,
    };
  }

  private coverEmail(row: LetterState & { pdf: Buffer; unsubscribeToken: string | null }, email: NonNullable<IssuedLetter['pendingEmail']>) {
    const locale = row.locale as LetterLocale;
    const optOut = row.unsubscribeToken ? unsubscribeLink(this.config.PUBLIC_URL, row.unsubscribeToken) : null;
    const cover = this.emailTemplates.render('letter-cover', locale, {
      recipientName: row.recipientName,
      letterTitle: this.renderer.title(row.type, locale),
      letterNumber: row.number,
      creditor: this.config.CREDITOR_NAME,
      unsubscribeUrl: optOut,
    });
    return {
      to: email.to,
      subject: cover.subject,
      text: cover.text,
      html: cover.html,
      messageId: email.messageId,
      attachments: [{ filename: `${row.number}.pdf`, content: row.pdf, contentType: 'application/pdf' }],
      headers: optOut ? unsubscribeHeaders(optOut) : {},
    };
  }
}

function toIssued(row: LetterState): IssuedLetter {
  // A failed email goes out again when the step is retried (by an operator, after the last attempt).
  const pending = (row.emailStatus === 'pending' || row.emailStatus === 'failed') && row.emailDispatchId && row.messageId && row.recipientEmail;
  return {
    id: row.id,
    number: row.number,
    type: row.type,
    recipient: { role: row.recipientRole, id: row.recipientId, name: row.recipientName },
    sha256: row.sha256,
    email: row.emailStatus,
    post: row.postStatus,
    ...(pending ? { pendingEmail: { dispatchId: row.emailDispatchId!, messageId: row.messageId!, to: row.recipientEmail! } } : {}),
  };
}
