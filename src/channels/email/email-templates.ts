import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type Handlebars from 'handlebars';
import { z } from 'zod';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import type { DisputeRoute, PaymentRoute } from '../creditor';
import { type Locale, LOCALES, readTemplateFiles } from '../template-files';

export { LOCALES, type Locale } from '../template-files';

const templateFile = z.strictObject({ subject: z.string().min(1), text: z.string().min(1), html: z.string().min(1) });

/** What every message may say: who writes, how to pay, how to dispute. */
interface Routes {
  creditor: string;
  payment: PaymentRoute;
  dispute: DisputeRoute;
  /** The debtor's self-service page for the case (see self-service-link.ts); null when the service issues none. */
  selfServiceUrl: string | null;
}

/** A reminder's variables: facts from the case's account and legal record only. */
export interface NoticeVariables extends Routes {
  debtorName: string;
  invoiceRef: string;
  contractRef: string | null;
  /** What is owed now: the principal outstanding, plus late fees and costs when any accrued. */
  amount: string;
  currency: string;
  amountText: string;
  /** Set when late fees or costs are part of the amount: the principal outstanding, and the rest. */
  principalText: string | null;
  feesText: string | null;
  dueDate: string;
  /** Reminders sent on the case before this one, and the day of the last. */
  remindersSent: number;
  lastReminderDate: string | null;
  /** Payment demands (letters) already sent to the debtor: a reminder then does not promise one. */
  demandsSent: number;
  /** False once the contract was terminated (or its termination sent): no message may threaten it then. */
  contractInForce: boolean;
  /** The debtor's opt-out link, which every message carries. */
  unsubscribeUrl: string;
}

/** The covering email a letter is attached to. */
export interface LetterCoverVariables extends Routes {
  recipientName: string;
  letterTitle: string;
  letterNumber: string;
  /** Null for a guarantor: the link is the debtor's opt-out. */
  unsubscribeUrl: string | null;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
  /** `<name>/<locale>`, recorded on the touch with `version`. */
  templateKey: string;
  version: string;
}

interface CompiledTemplate {
  subject: Handlebars.TemplateDelegate;
  text: Handlebars.TemplateDelegate;
  html: Handlebars.TemplateDelegate;
  version: string;
}

/** Email templates per locale under TEMPLATES_DIR/email/<locale>/<name>.yaml; HTML parts are escaped. */
@Injectable()
export class EmailTemplates {
  private readonly compiled = new Map<string, CompiledTemplate>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    for (const { handlebars, files } of readTemplateFiles(join(config.TEMPLATES_DIR, 'email'), templateFile)) {
      for (const { key, data, version } of files) {
        this.compiled.set(key, {
          subject: handlebars.compile(data.subject, { noEscape: true, strict: true }),
          text: handlebars.compile(data.text, { noEscape: true, strict: true }),
          html: handlebars.compile(data.html, { strict: true }),
          version,
        });
      }
    }
  }

  /** True when the template exists in every supported locale. */
  has(name: string): boolean {
    return LOCALES.every((locale) => this.compiled.has(`${name}/${locale}`));
  }

  render(name: string, locale: Locale, variables: NoticeVariables | LetterCoverVariables): RenderedEmail {
    const templateKey = `${name}/${locale}`;
    const template = this.compiled.get(templateKey);
    if (!template) throw new Error(`no email template ${templateKey}`);
    return {
      subject: template.subject(variables),
      text: template.text(variables),
      html: template.html(variables),
      templateKey,
      version: template.version,
    };
  }
}

/** The debtor's locale if we have templates for it (or for its language), else the default. */
export function pickLocale(requested: string | null, fallback: Locale): Locale {
  if (!requested) return fallback;
  const exact = LOCALES.find((locale) => locale.toLowerCase() === requested.toLowerCase());
  if (exact) return exact;
  const languageOf = (tag: string) => tag.split('-', 1)[0]!.toLowerCase();
  return LOCALES.find((locale) => languageOf(locale) === languageOf(requested)) ?? fallback;
}
