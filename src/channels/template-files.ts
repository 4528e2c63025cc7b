import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';

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

/** Reads `<dir>/<locale>/<name>.yaml` for every supported locale, each checked by `schema`. */
export function readTemplateFiles<S extends z.ZodType>(dir: string, schema: S): TemplateFile<z.output<S>>[] {
  const files: TemplateFile<z.output<S>>[] = [];
  for (const locale of LOCALES) {
    const localeDir = join(dir, locale);
    if (!existsSync(localeDir)) continue;
    for (const name of readdirSync(localeDir).filter((file) => file.endsWith('.yaml'))) {
      const { data, source } = readTemplateFile(join(localeDir, name), schema);
      files.push({ key: `${name.replace(/\.yaml$/, '')}/${locale}`, data, version: createHash('sha256').update(source).digest('hex').slice(0, 12) });
    }
  }
  return files;
}
