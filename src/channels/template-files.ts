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

/** Reads `<dir>/<locale>/<name>.yaml` for every supported locale, each checked by `schema`; a bad file stops the boot, named. */
export function readTemplateFiles<S extends z.ZodType>(dir: string, schema: S): TemplateFile<z.output<S>>[] {
  const files: TemplateFile<z.output<S>>[] = [];
  for (const locale of LOCALES) {
    const localeDir = join(dir, locale);
    if (!existsSync(localeDir)) continue;
    for (const name of readdirSync(localeDir).filter((file) => file.endsWith('.yaml'))) {
      const source = readFileSync(join(localeDir, name), 'utf8');
      const parsed = schema.safeParse(parse(source));
      if (!parsed.success) throw new Error(`${join(localeDir, name)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      files.push({
        key: `${name.replace(/\.yaml$/, '')}/${locale}`,
        data: parsed.data,
        version: createHash('sha256').update(source).digest('hex').slice(0, 12),
      });
    }
  }
  return files;
}
