import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';
import { parse } from 'yaml';
import { z } from 'zod';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { LOCALES, type Locale, type NoticeVariables } from '../email/email-templates';

/** The email notice's variables plus the debtor's opt-out link, which every SMS ends with. */
export interface SmsVariables extends NoticeVariables {
  unsubscribeUrl: string;
}

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
    for (const locale of LOCALES) {
      const dir = join(config.TEMPLATES_DIR, 'sms', locale);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir).filter((file) => file.endsWith('.yaml'))) {
        const source = readFileSync(join(dir, name), 'utf8');
        const parsed = templateFile.safeParse(parse(source));
        if (!parsed.success) throw new Error(`${join(dir, name)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        this.compiled.set(`${name.replace(/\.yaml$/, '')}/${locale}`, {
          text: Handlebars.compile(parsed.data.text, { noEscape: true, strict: true }),
          version: createHash('sha256').update(source).digest('hex').slice(0, 12),
        });
      }
    }
  }

  /** True when the template exists in every supported locale. */
  has(name: string): boolean {
    return LOCALES.every((locale) => this.compiled.has(`${name}/${locale}`));
  }

  /** Throws for an unknown template or a missing variable (strict), never sends half a message. */
  render(name: string, locale: Locale, variables: SmsVariables): RenderedSms {
    const templateKey = `${name}/${locale}`;
    const template = this.compiled.get(templateKey);
    if (!template) throw new Error(`no SMS template ${templateKey}`);
    // Strict mode catches a missing key, not an empty one; an SMS without its opt-out must not go out.
    if (!variables.unsubscribeUrl?.trim()) throw new Error(`SMS template ${templateKey} needs an unsubscribeUrl`);
    return { text: template.text(variables).trim(), templateKey, version: template.version };
  }
}
