import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { parse } from 'yaml';
import { z } from 'zod';

/** The locales every template exists in: messages and letters in English and simplified Chinese. */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

export interface TemplateFile<T> {
  /** `<name>/<locale>`, the key recorded with each message. */
  key: string;
  data: T;
  /** The first 12 hex digits of the file's sha256: which text a message was rendered from. */
  version: string;
}

/** Reads one template file checked by `schema`, with its source text; a missing or bad file stops the boot, named. */
export function readTemplateFile<S extends z.ZodType>(file: string, schema: S): { data: z.output<S>; source: string } {
  if (!existsSync(file)) throw new Error(`template ${file} is missing`);
  const source = readFileSync(file, 'utf8');
  let document: unknown;
  try {
    document = parse(source);
  } catch (error) {
    throw new Error(`template ${file} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const parsed = schema.safeParse(document);
  if (!parsed.success) throw new Error(`template ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  return { data: parsed.data, source };
}

/** Shared paragraphs of one locale's templates, used in them as {{> name}}. */
const partialsFile = z.record(z.string(), z.string().min(1));
export const PARTIALS_FILE = '_partials.yaml';

/**
 * One Handlebars environment per locale: its partials (`_partials.yaml` beside the templates, for
 * wording every message shares, such as how to pay) and the helpers templates may use. A partial
 * whose name ends in `Html` escapes what it prints; the others print text as it is. Each is
 * compiled here once, because a partial left as source takes the options of whichever template
 * first calls it.
 */
export function templateEnvironment(partials: Record<string, string>): typeof Handlebars {
  const handlebars = Handlebars.create();
  handlebars.registerHelper('plural', (count: number, one: string, many: string) => (count === 1 ? one : many));
  for (const [name, source] of Object.entries(partials)) {
    handlebars.registerPartial(name, handlebars.compile(source, { noEscape: !name.endsWith('Html'), strict: true }));
  }
  return handlebars;
}

export interface LocaleTemplates<T> {
  locale: Locale;
  handlebars: typeof Handlebars;
  files: TemplateFile<T>[];
}

/**
 * Reads `<dir>/<locale>/<name>.yaml` for every supported locale, each checked by `schema`, with
 * the locale's `_partials.yaml` when there is one. A template's version covers the partials too.
 */
export function readTemplateFiles<S extends z.ZodType>(dir: string, schema: S): LocaleTemplates<z.output<S>>[] {
  const locales: LocaleTemplates<z.output<S>>[] = [];
  for (const locale of LOCALES) {
    const localeDir = join(dir, locale);
    if (!existsSync(localeDir)) continue;
    const partialsPath = join(localeDir, PARTIALS_FILE);
    const partials = existsSync(partialsPath) ? readTemplateFile(partialsPath, partialsFile) : { data: {}, source: '' };
    const files: TemplateFile<z.output<S>>[] = [];
    for (const name of readdirSync(localeDir).filter((file) => file.endsWith('.yaml') && file !== PARTIALS_FILE)) {
      const { data, source } = readTemplateFile(join(localeDir, name), schema);
      // Without partials the version is the file's own hash, as it always was.
      const hash = createHash('sha256');
      if (partials.source) hash.update(partials.source).update('\0');
      const version = hash.update(source).digest('hex').slice(0, 12);
      files.push({ key: `${name.replace(/\.yaml$/, '')}/${locale}`, data, version });
    }
    locales.push({ locale, handlebars: templateEnvironment(partials.data), files });
  }
  return locales;
}
