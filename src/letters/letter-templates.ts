/** Letter templates: TEMPLATES_DIR/letters/<locale>/<type>.yaml and each locale's layout.yaml, compiled once at boot. */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type Handlebars from 'handlebars';
import { z } from 'zod';
import { LOCALES, readTemplateFile, templateEnvironment } from '../channels/template-files';
import { LETTER_TYPES, type LetterLocale, type LetterType } from '../domain/letter-fields';
import type { AllocationPart } from '../domain/allocation';
import type { LetterFeePeriodVariables, LetterVariables } from './letter-content';

const text = z.string().min(1);
const letterFile = z.strictObject({
  /** Plain text: also used on its own (email cover, earlier letters named in a later one). */
  title: text.refine((value) => !value.includes('{{'), 'must be plain text, without {{variables}}'),
  salutation: text,
  body: text,
  conclusion: text,
  closing: text,
  /** Whether the statement of account is enclosed: a page of its own, listed as the enclosure. */
  statement: z.boolean().default(false),
});
const layoutFile = z.strictObject({
  reference: text,
  dated: text,
  contact: text,
  amounts: z.strictObject({ heading: text, principal: text, payment: text, outstanding: text, fee: text, costs: text, total: text }),
  statement: z.strictObject({ title: text, about: text, payments: text, payment: text, periods: text, period: text, feePaid: text, feeOwed: text }),
  allocation: z.strictObject({ costs: text, interest: text, principal: text }),
  enclosures: text,
  seal: text,
  online: text,
  page: text,
  partials: z.record(z.string(), text).default({}),
});

export type Text = Handlebars.TemplateDelegate<LetterVariables>;
/** A row of the statement: the letter's variables plus the payment (`received`) or fee period (`period`) it shows. */
export type RowText = Handlebars.TemplateDelegate<LetterVariables & { received?: LetterVariables['payments'][number]; period?: LetterFeePeriodVariables }>;

export interface CompiledLayout {
  reference: Text;
  dated: Text;
  contact: Text;
  amounts: { heading: Text; principal: Text; payment: RowText; outstanding: Text; fee: Text; costs: Text; total: Text };
  statement: {
    title: Text;
    about: Text;
    payments: Handlebars.TemplateDelegate<LetterVariables & { order: string }>;
    payment: RowText;
    periods: Text;
    period: RowText;
    feePaid: Text;
    feeOwed: Text;
  };
  allocation: Record<AllocationPart, string>;
  enclosures: Text;
  seal: Text;
  online: Text;
  page: Handlebars.TemplateDelegate<{ page: number; pages: number }>;
}

export interface CompiledLetter {
  title: string;
  salutation: Text;
  body: Text;
  conclusion: Text;
  closing: Text;
  statement: boolean;
  version: string;
}

/** Paragraphs are separated by blank lines; a single line break stays a line break. */
export function paragraphs(rendered: string): string[] {
  return rendered
    .split(/\n[ \t]*\n/)
    .map((paragraph) => paragraph.trim())
    .filter(Boolean);
}

/** The compiled letter templates and layouts of every locale. */
export class LetterTemplates {
  private readonly layouts = new Map<LetterLocale, CompiledLayout>();
  private readonly letters = new Map<string, CompiledLetter>();

  constructor(templatesDir: string) {
    for (const locale of LOCALES) {
      const dir = join(templatesDir, 'letters', locale);
      const layoutPath = join(dir, 'layout.yaml');
      const layout = readTemplateFile(layoutPath, layoutFile);
      // One Handlebars environment per locale: partials are per locale.
      const handlebars = templateEnvironment({});
      const compile = <C>(source: string, file: string, key: string): Handlebars.TemplateDelegate<C> => {
        try {
          handlebars.parse(source); // compile() is lazy: find syntax errors at boot, not on the first letter
        } catch (error) {
          throw new Error(`letter template ${file}, ${key}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
        return handlebars.compile<C>(source, { noEscape: true, strict: true });
      };
      for (const [name, source] of Object.entries(layout.data.partials)) {
        handlebars.registerPartial(name, compile(source, layoutPath, `partials.${name}`));
      }
      const { amounts, statement } = layout.data;
      const section = <T extends Record<string, string>>(texts: T, name: string) =>
        Object.fromEntries(Object.entries(texts).map(([key, source]) => [key, compile(source, layoutPath, `${name}.${key}`)])) as { [K in keyof T]: Text };
      this.layouts.set(locale, {
        reference: compile(layout.data.reference, layoutPath, 'reference'),
        dated: compile(layout.data.dated, layoutPath, 'dated'),
        contact: compile(layout.data.contact, layoutPath, 'contact'),
        amounts: section(amounts, 'amounts'),
        statement: section(statement, 'statement'),
        allocation: layout.data.allocation,
        enclosures: compile(layout.data.enclosures, layoutPath, 'enclosures'),
        seal: compile(layout.data.seal, layoutPath, 'seal'),
        online: compile(layout.data.online, layoutPath, 'online'),
        page: compile(layout.data.page, layoutPath, 'page'),
      });
      for (const type of LETTER_TYPES) {
        const file = join(dir, `${type}.yaml`);
        const { data, source } = readTemplateFile(file, letterFile);
        this.letters.set(`${type}/${locale}`, {
          title: data.title,
          salutation: compile(data.salutation, file, 'salutation'),
          body: compile(data.body, file, 'body'),
          conclusion: compile(data.conclusion, file, 'conclusion'),
          closing: compile(data.closing, file, 'closing'),
          statement: data.statement,
          // The letter prints its layout too, so both sources make the version.
          version: createHash('sha256').update(layout.source).update('\0').update(source).digest('hex').slice(0, 12),
        });
      }
    }
  }

  letter(type: LetterType, locale: LetterLocale): CompiledLetter {
    const letter = this.letters.get(`${type}/${locale}`);
    if (!letter) throw new Error(`no letter template ${type}/${locale}`);
    return letter;
  }

  layout(locale: LetterLocale): CompiledLayout {
    return this.layouts.get(locale)!;
  }
}
