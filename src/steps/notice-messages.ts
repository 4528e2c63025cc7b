import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { EmailTemplates, pickLocale, type RenderedEmail } from '../channels/email/email-templates';
import { type RenderedSms, SmsTemplates } from '../channels/sms/sms-templates';
import { unsubscribeLink } from '../channels/unsubscribe-link';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { formatMinorUnits } from '../domain/money';
import type { PolicyStep } from '../domain/policy';
import type { TouchInput } from '../domain/touch-kinds';
import type { ClaimedDispatch } from '../channels/dispatch.repository';
import type { RunnableStep } from '../scheduling/step.repository';

export type NoticeStep = Extract<PolicyStep, { action: 'notice' }>;

/** A notice ready to send: the message in the debtor's locale and the hash of its content. */
export interface NoticeMessage {
  message: ({ channel: 'email' } & RenderedEmail) | ({ channel: 'sms' } & RenderedSms);
  locale: string;
  contentHash: string;
}

/** Building a NumberFormat is costly; a handful of locale × currency pairs cover every notice. */
const currencyFormats = new Map<string, Intl.NumberFormat>();
function currencyFormat(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale}/${currency}`;
  let format = currencyFormats.get(key);
  if (!format) currencyFormats.set(key, (format = new Intl.NumberFormat(locale, { style: 'currency', currency })));
  return format;
}

/** A notice's text from its template and the case's facts, and the `notice.sent` touch that records it. */
@Injectable()
export class NoticeMessages {
  private readonly creditor: string;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly emailTemplates: EmailTemplates,
    private readonly smsTemplates: SmsTemplates,
  ) {
    this.creditor = config.MAIL_FROM.replace(/\s*<.*>$/, '');
  }

  render(step: RunnableStep, definition: NoticeStep): NoticeMessage {
    const locale = pickLocale(step.debtor.locale, this.config.DEFAULT_LOCALE);
    const { currency } = step.case;
    const amount = formatMinorUnits(step.case.balanceMinor, currency);
    const variables = {
      debtorName: step.debtor.name,
      invoiceRef: step.invoice.ref,
      contractRef: step.invoice.contractRef,
      amount,
      currency,
      amountText: currencyFormat(locale, currency).format(amount as unknown as number),
      dueDate: dueDateText(step, locale),
      creditor: this.creditor,
      unsubscribeUrl: unsubscribeLink(this.config.PUBLIC_URL, step.debtor.unsubscribeToken),
    };
    if (definition.channel === 'sms') {
      const sms = this.smsTemplates.render(definition.template, locale, variables);
      return { message: { channel: 'sms', ...sms }, locale, contentHash: createHash('sha256').update(sms.text).digest('hex') };
    }
    const email = this.emailTemplates.render(definition.template, locale, variables);
    const contentHash = createHash('sha256').update(email.subject).update('\n').update(email.text).update('\n').update(email.html).digest('hex');
    return { message: { channel: 'email', ...email }, locale, contentHash };
  }

  /** The evidence of a sent notice: which template and version, to whom, for what balance, with the content's hash. */
  sentTouch(step: RunnableStep, definition: NoticeStep, dispatch: ClaimedDispatch, { message, locale, contentHash }: NoticeMessage): TouchInput {
    const { currency } = step.case;
    return {
      kind: 'notice.sent',
      actor: 'system',
      channel: message.channel,
      data: {
        stepId: step.id,
        index: step.index,
        dispatchId: dispatch.id,
        ...(message.channel === 'email'
          ? { messageId: dispatch.messageId, recipient: step.debtor.email }
          : { reference: dispatch.id, recipient: step.debtor.phone }),
        template: definition.template,
        templateKey: message.templateKey,
        templateVersion: message.version,
        locale,
        balance: formatMinorUnits(step.case.balanceMinor, currency),
        currency,
        contentHash,
        delivery: 'accepted',
      },
    };
  }
}

/** The due date as the debtor reads it: the calendar day, or the instant in their zone. */
function dueDateText(step: RunnableStep, locale: string): string {
  if (step.invoice.dueDate) return DateTime.fromISO(step.invoice.dueDate).setLocale(locale).toLocaleString(DateTime.DATE_FULL);
  return DateTime.fromJSDate(step.invoice.dueAt, { zone: step.debtor.timezone }).setLocale(locale).toLocaleString(DateTime.DATETIME_FULL);
}
