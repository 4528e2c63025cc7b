import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { TouchInput } from '../domain/touch-kinds';
import { EmailTemplates, pickLocale } from '../channels/email/email-templates';
import { Mailer } from '../channels/email/mailer.service';
import { unsubscribeHeaders, unsubscribeLink } from '../channels/unsubscribe-link';
import { Clock } from '../common/clock';
import { formatMinorUnits, toMinorUnits } from '../domain/money';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { updateReturning } from '../database/sql';
import type { PolicyStep } from '../domain/policy';
import { accruedFee, CaseTerms, localDate, terminateContract } from './case-terms';
import { addPeriod } from '../domain/legal-clocks';
import type { LetterFields, LetterLocale, LetterType } from '../domain/letter-fields';
import { LetterRenderer } from './letter-pdf';

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
  email: 'pending' | 'sent' | 'failed' | 'skipped' | null;
  post: 'queued' | 'posted' | 'delivered' | 'returned' | 'skipped' | null;
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

interface LetterRow {
  id: string;
  number: string;
  type: LetterType;
  recipient_role: 'debtor' | 'guarantor';
  recipient_id: string;
  recipient_name: string;
  recipient_email: string | null;
  locale: string;
  template_key: string;
  template_version: string;
  sha256: string;
  pdf: Buffer;
  email_status: IssuedLetter['email'];
  post_status: IssuedLetter['post'];
  email_dispatch_id: string | null;
  dispatch_status: string | null;
  message_id: string | null;
}

const LETTER_COLUMNS = `l.id, l.number, l.type, l.recipient_role, l.recipient_id, l.recipient_name, l.recipient_email, l.locale,
  l.template_key, l.template_version, l.sha256, l.email_status, l.post_status, l.email_dispatch_id, x.status AS dispatch_status, x.message_id`;

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
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly renderer: LetterRenderer,
    private readonly emailTemplates: EmailTemplates,
    private readonly mailer: Mailer,
    private readonly clock: Clock,
  ) {
    this.messageDomain = /@([^>\s]+)/.exec(config.MAIL_FROM)?.[1] ?? 'dunning.local';
  }

  /**
   * Issues the step's letters in the caller's transaction, which holds the case lock (`terms`).
   * Letters already issued for this step are returned as they are.
   */
  async issue(m: EntityManager, terms: CaseTerms, stepId: string, step: LetterStep, actor: string): Promise<Issued> {
    const now = this.clock.now();
    const existing: LetterRow[] = await m.query(
      `SELECT ${LETTER_COLUMNS} FROM letters l LEFT JOIN dispatches x ON x.id = l.email_dispatch_id WHERE l.step_id = $1 ORDER BY l.number`,
      [stepId],
    );
    const done = new Set(existing.map((row) => row.recipient_id));
    const recipients = await this.recipients(m, terms, step.letter);
    const skipped: string[] = recipients.length === 0 ? ['the case has no guarantor to notify'] : [];
    const touches: TouchInput[] = [];
    const issued = existing.map((row) => toIssued(row));
    const locale = pickLocale(terms.locale, this.config.DEFAULT_LOCALE) as LetterLocale;

    for (const recipient of recipients.filter((r) => !done.has(r.id))) {
      const byEmail = step.deliver.includes('email') && recipient.email !== null;
      const byPost = step.deliver.includes('post') && recipient.address !== null;
      if (!byEmail && !byPost) {
        skipped.push(`${recipient.role} ${recipient.id} has no ${step.deliver.map((c) => (c === 'email' ? 'email address' : 'postal address')).join(' or ')}`);
        continue;
      }
      const id = randomUUID();
      const [{ n }] = await m.query(`SELECT nextval('letter_number_seq') AS n`);
      const date = localDate(now, terms.timezone);
      const fields = await this.fields(m, terms, step, recipient, locale, `L-${date.slice(0, 4)}-${String(n).padStart(6, '0')}`, date);
      const rendered = await this.renderer.render(fields, now);
      const sha256 = createHash('sha256').update(rendered.pdf).digest('hex');
      const emailStatus = step.deliver.includes('email') ? (byEmail ? 'pending' : 'skipped') : null;
      const postStatus = step.deliver.includes('post') ? (byPost ? 'queued' : 'skipped') : null;
      const dispatchId = byEmail ? randomUUID() : null;
      const messageId = dispatchId ? `<${dispatchId}@${this.messageDomain}>` : null;
      if (dispatchId) {
        // The dispatch row is the email's dedupe key, as for notices.
        await m.query(
          `INSERT INTO dispatches (id, case_id, step_id, channel, recipient, dedupe_key, status, message_id, attempts, created_at, debtor_id)
           VALUES ($1, $2, $3, 'email', $4, $5, 'pending', $6, 0, $7, $8)`,
          [
            dispatchId,
            terms.id,
            stepId,
            recipient.email,
            `${stepId}/letter/${recipient.id}/email`,
            messageId,
            now,
            recipient.role === 'debtor' ? recipient.id : null,
          ],
        );
      }
      await m.query(
        `INSERT INTO letters (id, case_id, step_id, number, type, recipient_role, recipient_id, recipient_name, recipient_email, recipient_address,
           locale, template_key, template_version, fields, pdf, sha256, deliver, email_status, email_dispatch_id, post_status, issued_at, issued_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
        [
          id,
          terms.id,
          stepId,
          fields.number,
          step.letter,
          recipient.role,
          recipient.id,
          recipient.name,
          recipient.email,
          recipient.address ? JSON.stringify(recipient.address) : null,
          locale,
          rendered.templateKey,
          rendered.templateVersion,
          JSON.stringify(fields),
          rendered.pdf,
          sha256,
          step.deliver,
          emailStatus,
          dispatchId,
          postStatus,
          now,
          actor,
        ],
      );
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
      if (step.letter === 'contract-termination') touches.push(...(await terminateContract(m, terms, actor, now, { letterId: id, number: fields.number })));
    }
    await this.audit.record(m, terms.id, touches);
    return { caseId: terms.id, stepId, letters: issued, skipped };
  }

  /**
   * Sends each letter still waiting for its email (PDF attached) and records `letter.sent` after
   * each accepted send, so a retry sends only what has not gone out.
   */
  async deliverEmails(issued: Issued): Promise<void> {
    for (const letter of issued.letters) {
      if (!letter.pendingEmail) continue;
      const [row]: (LetterRow & { pdf: Buffer; unsubscribe_token: string | null })[] = await this.dataSource.query(
        `SELECT ${LETTER_COLUMNS}, l.pdf, d.unsubscribe_token FROM letters l LEFT JOIN dispatches x ON x.id = l.email_dispatch_id
           LEFT JOIN debtors d ON d.id = l.recipient_id AND l.recipient_role = 'debtor'
         WHERE l.id = $1`,
        [letter.id],
      );
      if (row.dispatch_status !== 'sent') {
        await this.dataSource.query('UPDATE dispatches SET attempts = attempts + 1 WHERE id = $1', [letter.pendingEmail.dispatchId]);
        const cover = this.coverEmail(row, letter.pendingEmail);
        await this.mailer.send({
          ...cover,
          headers: { ...cover.headers, 'X-Dunning-Case': issued.caseId, 'X-Dunning-Dispatch': letter.pendingEmail.dispatchId, 'X-Dunning-Letter': row.number },
        });
      }
      await this.dataSource.transaction(async (m) => {
        const [head] = await m.query('SELECT touch_seq, touch_hash FROM cases WHERE id = $1 FOR UPDATE', [issued.caseId]);
        const marked = await updateReturning(m, `UPDATE letters SET email_status = 'sent' WHERE id = $1 AND email_status <> 'sent' RETURNING id`, [letter.id]);
        await m.query(`UPDATE dispatches SET status = 'sent', sent_at = COALESCE(sent_at, $2), last_error = NULL WHERE id = $1`, [
          letter.pendingEmail!.dispatchId,
          this.clock.now(),
        ]);
        if (marked.length === 0) return;
        await this.audit.record(
          m,
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
                recipient: { role: row.recipient_role, id: row.recipient_id, name: row.recipient_name },
                dispatchId: letter.pendingEmail!.dispatchId,
                messageId: letter.pendingEmail!.messageId,
                sha256: row.sha256,
                templateKey: row.template_key,
                templateVersion: row.template_version,
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
  private async recipients(m: EntityManager, terms: CaseTerms, type: LetterType): Promise<Recipient[]> {
    if (type !== 'guarantor-notice') {
      return [
        { role: 'debtor', id: terms.debtor_id, name: terms.debtor_name, email: terms.debtor_email, address: terms.debtor_address, guaranteeEndsOn: null },
      ];
    }
    const guarantors: { id: string; name: string; email: string | null; address: Record<string, string> | null; ends_on: string }[] = await m.query(
      `SELECT id, name, email, address, to_char(guarantee_ends_on, 'YYYY-MM-DD') AS ends_on FROM guarantors WHERE case_id = $1 ORDER BY created_at, external_id`,
      [terms.id],
    );
    return guarantors.map((g) => ({ role: 'guarantor', id: g.id, name: g.name, email: g.email, address: g.address, guaranteeEndsOn: g.ends_on }));
  }

  private async fields(
    m: EntityManager,
    terms: CaseTerms,
    step: LetterStep,
    recipient: Recipient,
    locale: LetterLocale,
    number: string,
    date: string,
  ): Promise<LetterFields> {
    const [history]: { letters: { number: string; type: LetterType; date: string }[] | null; notices: number; charges: string }[] = await m.query(
      `SELECT (SELECT json_agg(json_build_object('number', number, 'type', type, 'date', to_char(issued_at AT TIME ZONE $2, 'YYYY-MM-DD')) ORDER BY issued_at, number)
                FROM letters WHERE case_id = $1 AND (email_status = 'sent' OR post_status IN ('queued', 'posted', 'delivered'))) AS letters,
              (SELECT count(*)::int FROM touches WHERE case_id = $1 AND kind = 'notice.sent') AS notices,
              (SELECT COALESCE(sum(amount_minor), 0)::text FROM fee_assessments WHERE case_id = $1 AND kind <> 'late-fee') AS charges`,
      [terms.id, terms.timezone],
    );
    const fee = accruedFee(terms, this.clock.now());
    const money = (minor: bigint) => formatMinorUnits(minor, terms.currency);
    const balance = BigInt(terms.balance_minor);
    // A letter claims the late fee accrued to its date plus other charges; without a rate, the fees assessed so far.
    const fees = fee ? toMinorUnits(fee.accrued, terms.currency)! + BigInt(history.charges) : BigInt(terms.fees_minor);
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
      debtor: { name: terms.debtor_name },
      contract: { ref: terms.contract_ref, date: terms.contract_date },
      invoice: { ref: terms.invoice_ref, dueDate: terms.due_date ?? localDate(terms.due_at, terms.timezone) },
      currency: terms.currency,
      principal: money(BigInt(terms.principal_minor)),
      outstanding: money(balance),
      fee,
      totalDue: money(balance + fees),
      deadline: addPeriod(date, step.deadline ?? this.config.LETTER_DEADLINE),
      documents: step.documents ?? [],
      previousLetters: history.letters ?? [],
      noticesSent: history.notices,
      guaranteeEndsOn: recipient.guaranteeEndsOn,
    };
  }

  private coverEmail(row: LetterRow & { pdf: Buffer; unsubscribe_token: string | null }, email: NonNullable<IssuedLetter['pendingEmail']>) {
    const locale = row.locale as LetterLocale;
    const optOut = row.unsubscribe_token ? unsubscribeLink(this.config.PUBLIC_URL, row.unsubscribe_token) : null;
    const cover = this.emailTemplates.render('letter-cover', locale, {
      recipientName: row.recipient_name,
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

function toIssued(row: LetterRow): IssuedLetter {
  // A failed email goes out again when the step is retried (by an operator, after the last attempt).
  const pending = (row.email_status === 'pending' || row.email_status === 'failed') && row.email_dispatch_id && row.message_id && row.recipient_email;
  return {
    id: row.id,
    number: row.number,
    type: row.type,
    recipient: { role: row.recipient_role, id: row.recipient_id, name: row.recipient_name },
    sha256: row.sha256,
    email: row.email_status,
    post: row.post_status,
    ...(pending ? { pendingEmail: { dispatchId: row.email_dispatch_id!, messageId: row.message_id!, to: row.recipient_email! } } : {}),
  };
}
