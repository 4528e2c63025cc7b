import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { CaseTerms } from '../cases/case.repository';
import { CaseStandings, type Standing } from '../cases/case-standings.service';
import { Contracts } from '../cases/contracts.service';
import { GuarantorRepository } from '../cases/guarantor.repository';
import { LimitationClock } from '../cases/limitation-clock.service';
import { creditorOf, disputeRoute, messageDomain, paymentRoute } from '../channels/creditor';
import { DispatchRepository } from '../channels/dispatch.repository';
import { EmailAddressRepository } from '../channels/email/email-address.repository';
import { EmailTemplates, pickLocale } from '../channels/email/email-templates';
import { Mailer } from '../channels/email/mailer.service';
import { recordSent } from '../channels/sent-but-unrecorded';
import { selfServiceUrl } from '../channels/self-service-link';
import { unsubscribeHeaders, unsubscribeLink } from '../channels/unsubscribe-link';
import { Clock } from '../common/clock';
import { Holidays } from '../compliance/holidays.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { OutcomeKeeper } from '../database/outcome-keeper';
import { Transactions, type Tx } from '../database/transactions';
import { accountFigures } from '../domain/account';
import { localDate } from '../domain/calendar';
import { JURISDICTIONS } from '../domain/jurisdictions';
import { addPeriod, type GuaranteeType, rollToWorkday } from '../domain/legal-clocks';
import { routeLetter } from '../domain/delivery-status';
import type { LegalRecord } from '../domain/legal-record';
import { type LetterFields, type LetterLocale, type LetterType, LETTERS_CLAIMING_PAYMENT } from '../domain/letter-fields';
import type { InDoubtRule, PolicyStep } from '../domain/policy';
import type { TouchInput } from '../domain/touch-kinds';
import { LetterRenderer } from './letter-pdf';
import { LetterSigner } from './letter-signer.service';
import { LetterRepository, type LetterCoverFacts, type LetterState } from './letter.repository';

export type LetterStep = Extract<PolicyStep, { action: 'letter' }>;

/** Letters' emails a crash interrupted, held for an operator with their step failed: retrying the job sends them with the same Message-ID. */
export class LetterInDoubt extends Error {
  /** `letters`: each held letter's number and Message-ID. */
  constructor(letters: readonly string[]) {
    super(
      `letter ${letters.join(', ')} in doubt: the send of its email was interrupted and may have gone out; check the mail server's log for the Message-ID, and retry this job to send it again with the same Message-ID`,
    );
  }
}

/** Which letter, to whom, on the step's trail. */
const letterEvidence = (issued: Issued, row: LetterState) => ({
  stepId: issued.stepId,
  letterId: row.id,
  number: row.number,
  type: row.type,
  recipient: { role: row.recipientRole, id: row.recipientId, name: row.recipientName },
});

const DAY_MS = 86_400_000;

interface Recipient {
  role: 'debtor' | 'guarantor';
  id: string;
  name: string;
  email: string | null;
  address: Record<string, string> | null;
  guarantee: { endsOn: string; type: GuaranteeType } | null;
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
  /** The debtor's zone: the day a letter reached its recipient is theirs. */
  timezone: string;
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
    private readonly signer: LetterSigner,
    private readonly emailTemplates: EmailTemplates,
    private readonly mailer: Mailer,
    private readonly clock: Clock,
    private readonly holidays: Holidays,
    private readonly standings: CaseStandings,
    private readonly limitation: LimitationClock,
    private readonly letters: LetterRepository,
    private readonly dispatches: DispatchRepository,
    private readonly guarantors: GuarantorRepository,
    private readonly contracts: Contracts,
    private readonly keeper: OutcomeKeeper,
    private readonly addresses: EmailAddressRepository,
  ) {
    this.messageDomain = messageDomain(config);
  }

  /**
   * Issues the step's letters in the caller's transaction, which holds the case lock (`terms`).
   * Letters already issued for this step are returned as they are.
   */
  async issue(tx: Tx, terms: CaseTerms, stepId: string, step: LetterStep, actor: string): Promise<Issued> {
    const now = this.clock.now();
    const standing = await this.standings.of(tx, terms.id, terms.money);
    const existing = await this.letters.ofStep(tx, stepId);
    const done = new Set(existing.map((row) => row.recipientId));
    const { recipients, skipped } = await this.recipients(tx, terms, step.letter, standing.record);
    const touches: TouchInput[] = [];
    const issued = existing.map(toIssued);
    const locale = pickLocale(terms.debtor.locale, this.config.DEFAULT_LOCALE);

    for (const recipient of recipients.filter((r) => !done.has(r.id))) {
      // A guarantor's address that bounced for good or complained: by post, or not at all (the
      // step worker has routed the debtor's letters already).
      const mark =
        recipient.role === 'guarantor' && recipient.email !== null && step.deliver.includes('email')
          ? await this.addresses.statusOf(tx, recipient.email)
          : null;
      const route = routeLetter(mark, step.deliver, step.fallback, 'guarantor');
      if ('skip' in route) {
        skipped.push(`${recipient.role} ${recipient.id}: ${route.skip}`);
        continue;
      }
      const { deliver } = route;
      const byEmail = deliver.includes('email') && recipient.email !== null;
      const byPost = deliver.includes('post') && recipient.address !== null;
      if (!byEmail && !byPost) {
        skipped.push(`${recipient.role} ${recipient.id} has no ${deliver.map((c) => (c === 'email' ? 'email address' : 'postal address')).join(' or ')}`);
        continue;
      }
      if (route.rerouted) {
        touches.push({
          kind: 'step.rerouted',
          actor,
          channel: 'post',
          data: {
            stepId,
            action: 'letter',
            letter: step.letter,
            recipient: { role: recipient.role, id: recipient.id },
            from: step.deliver,
            to: deliver,
            reason: route.rerouted,
          },
        });
      }
      const id = randomUUID();
      const n = await this.letters.nextNumber(tx);
      const date = localDate(now, terms.timezone);
      const fields = this.fields(terms, step, recipient, standing, locale, `L-${date.slice(0, 4)}-${String(n).padStart(6, '0')}`, date);
      const rendered = await this.renderer.render(fields, now);
      // The letter is its signed bytes: what is stored, sent and hashed.
      const pdf = await this.signer.sign(rendered.pdf, { reason: `${this.renderer.title(step.letter, locale)} ${fields.number}`, signingTime: now });
      const sha256 = createHash('sha256').update(pdf).digest('hex');
      const emailStatus = deliver.includes('email') ? (byEmail ? 'pending' : 'skipped') : null;
      const postStatus = deliver.includes('post') ? (byPost ? 'queued' : 'skipped') : null;
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
        pdf,
        sha256,
        deliver,
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
        deadline: fields.deadline,
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
    return { caseId: terms.id, stepId, timezone: terms.timezone, letters: issued, skipped };
  }

  /**
   * Sends each letter still waiting for its email (PDF attached) and records `letter.sent` after
   * each accepted send, so a retry sends only what has not gone out. An email whose last send a
   * crash interrupted is in doubt: recorded as `letter.in_doubt`, then held (LetterInDoubt is
   * thrown) or, where `inDoubt` says so, sent again with the same Message-ID.
   */
  async deliverEmails(issued: Issued, inDoubt: InDoubtRule, holdStep: (tx: Tx) => Promise<void>): Promise<void> {
    const held: string[] = [];
    for (const letter of issued.letters) {
      const email = letter.pendingEmail;
      if (!email) continue;
      const row = (await this.letters.forEmail(letter.id))!;
      let resent = row.dispatchStatus === 'in_doubt';
      if (row.dispatchStatus !== 'sent') {
        const previous = await this.dispatches.startSend(email.dispatchId);
        if (previous === 'sending') {
          await this.recordInDoubt(issued, row, email, inDoubt, holdStep);
          // The other letters still go out: one recipient's doubt must not cost another their notice.
          if (inDoubt === 'hold') {
            held.push(`${row.number} (${email.messageId})`);
            continue;
          }
          resent = true;
        }
        const cover = this.coverEmail(row, email);
        await this.mailer.send({
          ...cover,
          headers: { ...cover.headers, 'X-Dunning-Case': issued.caseId, 'X-Dunning-Dispatch': email.dispatchId, 'X-Dunning-Letter': row.number },
        });
      }
      // The email is out: its record must not be lost to a database restart (a retry would send again).
      await recordSent({ id: email.dispatchId, messageId: email.messageId }, () =>
        this.keeper.keep(`letter ${row.number}: the email's record`, () =>
          this.transactions.run(async (tx) => {
            const head = await this.audit.lockHead(tx, issued.caseId);
            const marked = await this.letters.markEmailSent(tx, letter.id);
            const sentAt = this.clock.now();
            await this.dispatches.markSent(tx, email.dispatchId, sentAt);
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
                    ...letterEvidence(issued, row),
                    ...(row.deadline ? { deadline: row.deadline } : {}),
                    dispatchId: email.dispatchId,
                    messageId: email.messageId,
                    sha256: row.sha256,
                    templateKey: row.templateKey,
                    templateVersion: row.templateVersion,
                    locale: row.locale,
                    delivery: 'accepted',
                    ...(resent ? { inDoubtResend: true } : {}),
                  },
                },
                // A hard bounce can be reported before this record is written: then it never reached them.
                ...((await this.dispatches.lockDelivery(tx, email.dispatchId))?.deliveryStatus === 'bounced'
                  ? []
                  : await this.reached(tx, issued, row, sentAt)),
              ],
              head,
            );
          }),
        ),
      );
      letter.email = 'sent';
      delete letter.pendingEmail;
    }
    if (held.length > 0) throw new LetterInDoubt(held);
  }

  /** The letter's email may have gone out before a crash: says so on the case's trail, and holds the dispatch for an operator unless it is resent. */
  private async recordInDoubt(
    issued: Issued,
    row: LetterState,
    email: NonNullable<IssuedLetter['pendingEmail']>,
    rule: InDoubtRule,
    holdStep: (tx: Tx) => Promise<void>,
  ): Promise<void> {
    await this.transactions.run(async (tx) => {
      // Held in the same transaction as the record, so no rerun can find it in doubt and not held.
      if (rule === 'hold') {
        await this.dispatches.markInDoubt(tx, email.dispatchId);
        await holdStep(tx);
      }
      await this.audit.record(tx, issued.caseId, [
        {
          kind: 'letter.in_doubt',
          actor: 'system',
          channel: 'email',
          data: { ...letterEvidence(issued, row), dispatchId: email.dispatchId, messageId: email.messageId, resolution: rule === 'resend' ? 'resent' : 'held' },
        },
      ]);
    });
  }

  /**
   * The recipient's mail server accepted the letter: it reached them (PRC Civil Code art. 137).
   * A demand to the debtor interrupts the limitation period where the law says so; a guarantor
   * notice is the guarantor's notification.
   */
  private async reached(tx: Tx, issued: Issued, row: LetterState, at: Date): Promise<TouchInput[]> {
    if (row.recipientRole === 'guarantor') {
      await this.guarantors.markNotified(tx, row.recipientId, localDate(at, issued.timezone));
      return [];
    }
    if (!LETTERS_CLAIMING_PAYMENT.includes(row.type)) return [];
    const source = { cause: 'letter.sent', kind: 'letter.sent', key: { letterId: row.id, number: row.number } };
    return this.limitation.restart(tx, issued.caseId, at, 'demand-delivered', source, 'system');
  }

  /**
   * The letter's recipients: the debtor, or every guarantor for a guarantor notice (never the
   * debtor). A guarantor whose guarantee lapsed is released and gets nothing (art. 693).
   */
  private async recipients(tx: Tx, terms: CaseTerms, type: LetterType, record: LegalRecord): Promise<{ recipients: Recipient[]; skipped: string[] }> {
    if (type !== 'guarantor-notice') {
      const { id, name, email, address } = terms.debtor;
      return { recipients: [{ role: 'debtor', id, name, email, address, guarantee: null }], skipped: [] };
    }
    const guarantors = await this.guarantors.ofCase(tx, terms.id);
    if (guarantors.length === 0) return { recipients: [], skipped: ['the case has no guarantor to notify'] };
    const lapsed = new Set(record.guarantees.filter((g) => g.status === 'lapsed').map((g) => g.guarantorId));
    return {
      recipients: guarantors
        .filter((g) => !lapsed.has(g.id))
        .map((g) => ({
          role: 'guarantor',
          id: g.id,
          name: g.name,
          email: g.email,
          address: g.address,
          guarantee: { endsOn: g.guaranteeEndsOn, type: g.type },
        })),
      skipped: guarantors
        .filter((g) => lapsed.has(g.id))
        .map((g) => `guarantor ${g.externalId}: the guarantee period ended on ${g.guaranteeEndsOn} without the claim preserved; the guarantor is released`),
    };
  }

  /** What the letter states: every figure from the account, every earlier contact from the legal record. */
  private fields(
    terms: CaseTerms,
    step: LetterStep,
    recipient: Recipient,
    standing: Standing,
    locale: LetterLocale,
    number: string,
    date: string,
  ): LetterFields {
    const figures = accountFigures(standing.account);
    const { record } = standing;
    const toRecipient = record.letters.filter((l) => l.recipient.role === recipient.role && l.recipient.id === recipient.id && !l.returned);
    const reminders = recipient.role === 'debtor' ? record.reminders.items : [];
    const fee = figures.lateFee;
    return {
      type: step.letter,
      locale,
      number,
      date,
      creditor: creditorOf(this.config),
      recipient: { role: recipient.role, name: recipient.name, address: recipient.address },
      debtor: { name: terms.debtor.name },
      contract: { ref: terms.contractRef, date: terms.contractDate, inForce: record.contract.status === 'in-force' },
      invoice: { ref: terms.invoiceRef, dueDate: terms.dueDate ?? localDate(terms.dueAt, terms.timezone) },
      currency: terms.currency,
      principal: figures.principal,
      payments: figures.payments.map((p) => ({ date: p.paidOn, amount: p.amount, toCosts: p.toCosts, toInterest: p.toInterest, toPrincipal: p.toPrincipal })),
      allocation: standing.account.allocation,
      paid: figures.paid,
      outstanding: figures.principalOutstanding,
      fee: fee && {
        startDate: fee.startDate,
        ratePerDay: fee.ratePerDay,
        days: fee.days,
        base: figures.principalOutstanding,
        periods: fee.periods,
        accrued: fee.accrued,
        paid: fee.paid,
        outstanding: fee.outstanding,
        perDay: fee.perDay,
        asOf: figures.asOf,
        cap: fee.cap,
        capped: fee.capped,
      },
      costs: figures.costs.outstanding,
      totalDue: figures.totalDue,
      deadline: this.deadline(date, step.deadline ?? this.config.LETTER_DEADLINE, terms.jurisdiction),
      documents: step.documents ?? [],
      previousLetters: toRecipient.map((l) => ({ number: l.number, type: l.type, date: l.sentOn })),
      noticesSent: reminders.length,
      lastNoticeDate: reminders.at(-1)?.on ?? null,
      guaranteeEndsOn: recipient.guarantee?.endsOn ?? null,
      guaranteeType: recipient.guarantee?.type ?? null,
      payment: paymentRoute(this.config, { ref: terms.invoiceRef, caseId: terms.id }),
      dispute: disputeRoute(this.config),
      // The page is the debtor's: a guarantor's letter names none.
      ...this.selfServicePage(terms, recipient),
    };
  }

  /** The debtor's page and the last whole day its link works (it ends at the hour of issue), as the letter prints them. */
  private selfServicePage(terms: CaseTerms, recipient: Recipient): Pick<LetterFields, 'selfServiceUrl' | 'selfServiceUntil'> {
    const now = this.clock.now();
    const url = recipient.role === 'debtor' ? selfServiceUrl(this.config, terms.id, now) : null;
    return {
      selfServiceUrl: url,
      selfServiceUntil: url ? localDate(new Date(now.getTime() + this.config.SELF_SERVICE_LINK_TTL - DAY_MS), terms.timezone) : null,
    };
  }

  /** The letter's deadline; where the law says so, a last day that is not a working day moves to the next (art. 203). */
  private deadline(date: string, period: string, jurisdiction: string | null): string {
    const nominal = addPeriod(date, period);
    if (!jurisdiction || !JURISDICTIONS[jurisdiction]?.rollsDeadlines) return nominal;
    return rollToWorkday(nominal, (day) => this.holidays.isWorkday(jurisdiction, day));
  }

  private coverEmail(row: LetterState & LetterCoverFacts & { pdf: Buffer; unsubscribeToken: string | null }, email: NonNullable<IssuedLetter['pendingEmail']>) {
    const locale = row.locale as LetterLocale;
    const optOut = row.unsubscribeToken ? unsubscribeLink(this.config.PUBLIC_URL, row.unsubscribeToken) : null;
    const cover = this.emailTemplates.render('letter-cover', locale, {
      recipientName: row.recipientName,
      letterTitle: this.renderer.title(row.type, locale),
      letterNumber: row.number,
      creditor: this.config.CREDITOR_NAME,
      payment: row.payment ?? paymentRoute(this.config, { ref: row.invoiceRef, caseId: row.caseId }),
      dispute: row.dispute ?? disputeRoute(this.config),
      // The debtor's page only for the debtor: a guarantor's letter must not open the debtor's case to them.
      selfServiceUrl: row.unsubscribeToken ? selfServiceUrl(this.config, row.caseId, this.clock.now()) : null,
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
