import { Inject, Injectable } from '@nestjs/common';
import { disputeRoute, paymentRoute } from '../channels/creditor';
import { EmailTemplates, type Locale, type NoticeVariables, pickLocale } from '../channels/email/email-templates';
import { SmsTemplates } from '../channels/sms/sms-templates';
import { unsubscribeLink } from '../channels/unsubscribe-link';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { formatMoney } from '../domain/formats';
import type { Disclosure } from '../domain/quality';
import { LetterRenderer } from '../letters/letter-pdf';
import { LetterRepository } from '../letters/letter.repository';
import type { Candidate } from './quality.repository';

export interface ContactContent {
  /** The text as sent, or null when the template the notice was rendered from is no longer the one loaded. */
  content: string | null;
  facts: Partial<Record<Disclosure, string[]>>;
}

/** What the service's own contacts said, for the rubric's content rules. */
@Injectable()
export class ContactContents {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly emails: EmailTemplates,
    private readonly sms: SmsTemplates,
    private readonly letters: LetterRepository,
    private readonly renderer: LetterRenderer,
  ) {}

  /**
   * A letter's text from its stored fields and its template, when the template loaded now is the
   * version it was issued with (else unknown); the facts are the creditor, the total and the
   * routes it printed.
   */
  async ofLetter(touch: Candidate): Promise<ContactContent> {
    const letter = await this.letters.get(String(touch.data.letterId));
    if (!letter) return { content: null, facts: {} };
    const { fields } = letter;
    const { text, totalDue } = this.renderer.text(fields);
    const current = this.renderer.version(fields.type, fields.locale) === letter.templateVersion;
    return {
      content: current ? text : null,
      facts: {
        creditor: [fields.creditor.name],
        amount: [totalDue],
        payment: present(fields.payment.account, fields.payment.link),
        dispute: present(fields.dispute.email, fields.dispute.phone, fields.dispute.url),
      },
    };
  }

  /**
   * What a sent notice said: its template (by the key and version on its `notice.sent` touch)
   * rendered again with the touch's amount, the creditor's routes and the debtor's opt-out link.
   * The disclosures a rule looks for come from those; the account's history paragraphs may differ
   * from the original, which no rule reads.
   */
  ofNotice(touch: Candidate): ContactContent {
    const data = touch.data as { template?: string; templateVersion?: string; locale?: string; amountDue?: string; currency?: string };
    const locale: Locale = pickLocale(data.locale ?? null, this.config.DEFAULT_LOCALE);
    const currency = data.currency ?? 'EUR';
    const amount = data.amountDue ?? '0';
    const amountText = formatMoney(amount, currency, locale);
    const payment = paymentRoute(this.config, { ref: touch.invoiceRef, caseId: touch.caseId });
    const dispute = disputeRoute(this.config);
    const unsubscribeUrl = unsubscribeLink(this.config.PUBLIC_URL, touch.unsubscribeToken);
    const facts: ContactContent['facts'] = {
      creditor: [this.config.CREDITOR_NAME],
      amount: [amountText, amount],
      payment: present(payment.account, payment.link),
      dispute: present(dispute.email, dispute.phone, dispute.url),
      'opt-out': [unsubscribeUrl],
    };
    if (!data.template) return { content: null, facts };
    const variables: NoticeVariables = {
      debtorName: touch.debtorName,
      invoiceRef: touch.invoiceRef,
      contractRef: touch.contractRef,
      amount,
      currency,
      amountText,
      principalText: null,
      feesText: null,
      dueDate: '',
      remindersSent: 0,
      lastReminderDate: null,
      demandsSent: 0,
      contractInForce: true,
      creditor: this.config.CREDITOR_NAME,
      payment,
      dispute,
      // Its signature depends on when the notice was made, which the touch does not keep; no rule reads it.
      selfServiceUrl: null,
      unsubscribeUrl,
    };
    return { content: this.render(touch.channel, data.template, data.templateVersion, locale, variables), facts };
  }

  /** The template's text, when the version loaded is the one the notice was sent with (a template removed since is unknown too). */
  private render(channel: string | null, template: string, version: string | undefined, locale: Locale, variables: NoticeVariables): string | null {
    try {
      if (channel === 'sms') {
        const sms = this.sms.render(template, locale, variables);
        return sms.version === version ? sms.text : null;
      }
      const email = this.emails.render(template, locale, variables);
      return email.version === version ? `${email.subject}\n${email.text}` : null;
    } catch {
      return null;
    }
  }
}

const present = (...values: (string | null)[]): string[] => values.filter((value): value is string => Boolean(value));
