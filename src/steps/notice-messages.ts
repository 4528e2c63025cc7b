import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Standing } from '../cases/case-standings.service';
import { disputeRoute, paymentRoute } from '../channels/creditor';
import { EmailTemplates, type Locale, type NoticeVariables, pickLocale, type RenderedEmail } from '../channels/email/email-templates';
import { type RenderedSms, SmsTemplates } from '../channels/sms/sms-templates';
import { selfServiceUrl } from '../channels/self-service-link';
import { unsubscribeLink } from '../channels/unsubscribe-link';
import { Clock } from '../common/clock';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { localDate } from '../domain/calendar';
import { formatDate, formatMoney } from '../domain/formats';
import { formatMinorUnits } from '../domain/money';
import type { InDoubtRule, PolicyStep } from '../domain/policy';
import type { TouchInput } from '../domain/touch-kinds';
import type { ClaimedDispatch } from '../channels/dispatch.repository';
import type { RunnableStep } from '../scheduling/step.repository';

export type NoticeStep = Extract<PolicyStep, { action: 'notice' }>;

/** A notice ready to send: the message in the debtor's locale and the hash of its content. */
export interface NoticeMessage {
  message: ({ channel: 'email' } & RenderedEmail) | ({ channel: 'sms' } & RenderedSms);
  locale: string;
  contentHash: string;
  /** The amount the message asks for: principal outstanding plus fees and costs. */
  amountDue: string;
}

/** A notice's text from its template and the case's standing, and the `notice.sent` touch that records it. */
@Injectable()
export class NoticeMessages {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly emailTemplates: EmailTemplates,
    private readonly smsTemplates: SmsTemplates,
    private readonly clock: Clock,
  ) {}

  /** The message for `step` as the case stands: the amount from its account, its history from its legal record. */
  render(step: RunnableStep, definition: NoticeStep, { account, record }: Standing): NoticeMessage {
    const locale = pickLocale(step.debtor.locale, this.config.DEFAULT_LOCALE);
    const { currency } = account;
    const money = (minor: bigint) => formatMoney(formatMinorUnits(minor, currency), currency, locale);
    const extrasMinor = (account.lateFee?.outstandingMinor ?? 0n) + account.costs.outstandingMinor;
    const lastReminder = record.reminders.items.at(-1);
    const variables: NoticeVariables = {
      debtorName: step.debtor.name,
      invoiceRef: step.invoice.ref,
      contractRef: step.invoice.contractRef,
      amount: formatMinorUnits(account.totalDueMinor, currency),
      currency,
      amountText: money(account.totalDueMinor),
      principalText: extrasMinor > 0n ? money(account.principalOutstandingMinor) : null,
      feesText: extrasMinor > 0n ? money(extrasMinor) : null,
      dueDate: dueDateText(step, locale),
      remindersSent: record.reminders.sent,
      lastReminderDate: lastReminder ? formatDate(lastReminder.on, locale) : null,
      demandsSent: record.demands.sent,
      contractInForce: record.contract.status === 'in-force',
      creditor: this.config.CREDITOR_NAME,
      payment: paymentRoute(this.config, { ref: step.invoice.ref, caseId: step.caseId }),
      dispute: disputeRoute(this.config),
      selfServiceUrl: selfServiceUrl(this.config, step.caseId, this.clock.now()),
      unsubscribeUrl: unsubscribeLink(this.config.PUBLIC_URL, step.debtor.unsubscribeToken),
    };
    if (definition.channel === 'sms') {
      const sms = this.smsTemplates.render(definition.template, locale, variables);
      return { message: { channel: 'sms', ...sms }, locale, contentHash: createHash('sha256').update(sms.text).digest('hex'), amountDue: variables.amount };
    }
    const email = this.emailTemplates.render(definition.template, locale, variables);
    const contentHash = createHash('sha256').update(email.subject).update('\n').update(email.text).update('\n').update(email.html).digest('hex');
    return { message: { channel: 'email', ...email }, locale, contentHash, amountDue: variables.amount };
  }

  /** The evidence of a sent notice: which template and version, to whom, for what balance, with the content's hash. */
  sentTouch(step: RunnableStep, definition: NoticeStep, dispatch: ClaimedDispatch, { message, locale, contentHash, amountDue }: NoticeMessage): TouchInput {
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
        amountDue,
        currency,
        contentHash,
        delivery: 'accepted',
        // A send after one a crash interrupted: the receiver may hold a copy with this Message-ID.
        ...(dispatch.previous === 'sending' || dispatch.previous === 'in_doubt' ? { inDoubtResend: true } : {}),
      },
    };
  }

  /** The last send of this notice was interrupted by a crash and may have gone out; `resolution` says what the run does. */
  inDoubtTouch(step: RunnableStep, { channel }: NoticeStep, dispatch: ClaimedDispatch, rule: InDoubtRule): TouchInput {
    return {
      kind: 'notice.in_doubt',
      actor: 'system',
      channel,
      data: {
        stepId: step.id,
        index: step.index,
        dispatchId: dispatch.id,
        ...(channel === 'email' ? { messageId: dispatch.messageId } : { reference: dispatch.id }),
        resolution: rule === 'resend' ? 'resent' : 'held',
      },
    };
  }
}

/** The due date as the debtor reads it: the calendar day, or the day in their zone of a due instant. */
function dueDateText(step: RunnableStep, locale: Locale): string {
  return formatDate(step.invoice.dueDate ?? localDate(step.invoice.dueAt, step.debtor.timezone), locale);
}
