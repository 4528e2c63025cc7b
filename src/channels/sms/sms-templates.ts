import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type Handlebars from 'handlebars';
import { z } from 'zod';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { LOCALES, type Locale, type NoticeVariables } from '../email/email-templates';
import { readTemplateFiles } from '../template-files';

export interface RenderedSms {
  text: string;
  /** `<name>/<locale>`, recorded on the touch with `version`. */
  templateKey: string;
  version: string;
}

/** The opt-out must be the last line, where readers and regulators look for it. */
const OPT_OUT_LAST = /\{\{\s*unsubscribeUrl\s*\}\}[^\n]*$/;

const templateFile = z.strictObject({
  text: z
    .string()
    .trim()
    .min(1)
    .refine((text) => OPT_OUT_LAST.test(text), { message: 'must end with a line containing {{unsubscribeUrl}}' }),
});

interface CompiledTemplate {
  text: Handlebars.TemplateDelegate;
  version: string;
}

/** SMS templates per locale under TEMPLATES_DIR/sms/<locale>/<name>.yaml: plain text, nothing escaped. */
@Injectable()
export class SmsTemplates {
  private readonly compiled = new Map<string, CompiledTemplate>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    for (const { handlebars, files } of readTemplateFiles(join(config.TEMPLATES_DIR, 'sms'), templateFile)) {
      for (const { key, data, version } of files) this.compiled.set(key, { text: handlebars.compile(data.text, { noEscape: true, strict: true }), version });
    }
  }

  /** True when the template exists in every supported locale. */
  has(name: string): boolean {
    return LOCALES.every((locale) => this.compiled.has(`${name}/${locale}`));
  }

  /** Throws for an unknown template or a missing variable (strict), never sends half a message. */
  render(name: string, locale: Locale, variables: NoticeVariables): RenderedSms {
    const templateKey = `${name}/${locale}`;
    const template = this.compiled.get(templateKey);
    if (!template) throw new Error(`no SMS template ${templateKey}`);
    // Strict mode catches a missing key, not an empty one; an SMS without its opt-out must not go out.
    if (!variables.unsubscribeUrl?.trim()) throw new Error(`SMS template ${templateKey} needs an unsubscribeUrl`);
    return { text: template.text(variables).trim(), templateKey, version: template.version };
  }
}
