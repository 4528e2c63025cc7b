/** Letter templates: TEMPLATES_DIR/letters/<locale>/<type>.yaml and each locale's layout.yaml, compiled once at boot. */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { z } from 'zod';
import { LOCALES, readTemplateFile } from '../channels/template-files';
import { LETTER_TYPES, type LetterLocale, type LetterType } from '../domain/letter-fields';
import type { LetterVariables } from './letter-content';

const text = z.string().min(1);
const letterFile = z.strictObject({
  /** Plain text: also used on its own (email cover, earlier letters named in a later one). */
  title: text.refine((value) => !value.includes('{{'), 'must be plain text, without {{variables}}'),
  salutation: text,
  body: text,
  conclusion: text,
  closing: text,
  enclosures: z.array(text).default([]),
});
const layoutFile = z.strictObject({
  reference: text,
  dated: text,
  contact: text,
  amounts: z.strictObject({ heading: text, principal: text, outstanding: text, fee: text, total: text }),
  enclosures: text,
  seal: text,
  page: text,
  partials: z.record(z.string(), text).default({}),
});

export type Text = Handlebars.TemplateDelegate<LetterVariables>;

export interface CompiledLayout {
  reference: Text;
  dated: Text;
  contact: Text;
  amounts: { heading: Text; principal: Text; outstanding: Text; fee: Text; total: Text };
  enclosures: Text;
  seal: Text;
  page: Handlebars.TemplateDelegate<{ page: number; pages: number }>;
}

export interface CompiledLetter {
  title: string;
  salutation: Text;
  body: Text;
  conclusion: Text;
  closing: Text;
  enclosures: Text[];
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
      // One Handlebars environment per locale: partials are per locale.
      const handlebars = Handlebars.create();
      handlebars.registerHelper('plural', (count: number, one: string, many: string) => (count === 1 ? one : many));
      const layoutPath = join(dir, 'layout.yaml');
      const layout = readTemplateFile(layoutPath, layoutFile);
      const compile = <C>(source: string, file: string, key: string): Handlebars.TemplateDelegate<C> => {
        try {
          handlebars.parse(source); // compile() is lazy: find syntax errors at boot, not on the first letter
        } catch (error) {
          throw new Error(`letter template ${file}, ${key}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
        return handlebars.compile<C>(source, { noEscape: true, strict: true });
      };
      for (const [name, source] of Object.entries(layout.data.partials)) {
        compile(source, layoutPath, `partials.${name}`);
        handlebars.registerPartial(name, source);
      }
      const { amounts } = layout.data;
      this.layouts.set(locale, {
        reference: compile(layout.data.reference, layoutPath, 'reference'),
        dated: compile(layout.data.dated, layoutPath, 'dated'),
        contact: compile(layout.data.contact, layoutPath, 'contact'),
        amounts: {
          heading: compile(amounts.heading, layoutPath, 'amounts.heading'),
          principal: compile(amounts.principal, layoutPath, 'amounts.principal'),
          outstanding: compile(amounts.outstanding, layoutPath, 'amounts.outstanding'),
          fee: compile(amounts.fee, layoutPath, 'amounts.fee'),
          total: compile(amounts.total, layoutPath, 'amounts.total'),
        },
        enclosures: compile(layout.data.enclosures, layoutPath, 'enclosures'),
        seal: compile(layout.data.seal, layoutPath, 'seal'),
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
          enclosures: data.enclosures.map((enclosure, i) => compile(enclosure, file, `enclosures.${i}`)),
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
