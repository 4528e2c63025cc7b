import { z } from 'zod';
import { CONFIG_DOCS, SECTIONS, type VariableDoc } from './config.docs';
import { configSchema } from './config.schema';

interface Variable extends VariableDoc {
  name: string;
  default: string | null;
  choices: string[] | null;
}

/** Every variable with its default and choices as the schema states them, and its text. */
function variables(): Variable[] {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, { default?: unknown; enum?: unknown[] }>;
  };
  return Object.entries(CONFIG_DOCS).map(([name, doc]: [string, VariableDoc]) => {
    const property = schema.properties[name] ?? {};
    const fallback = property.default;
    return {
      name,
      ...doc,
      default: fallback === undefined || fallback === '' ? null : typeof fallback === 'string' ? fallback : JSON.stringify(fallback),
      choices: property.enum ? property.enum.map(String) : null,
    };
  });
}

const GENERATED = 'Generated from src/config/config.schema.ts and src/config/config.docs.ts by `npm run docs:config`; do not edit by hand.';

/** docs/configuration.md: every variable by section, with its default and what it does. */
export function configurationMarkdown(): string {
  const all = variables();
  const lines = [
    '# Configuration',
    '',
    `<!-- ${GENERATED} -->`,
    '',
    'The service reads its settings from environment variables, and from `./.env` when it exists (variables already set in the',
    'environment win). An empty value counts as unset. Every value is checked at boot: a bad one stops the process with a',
    'message naming every bad variable. `.env.example` lists the same variables, commented out.',
    '',
    'Durations are ISO-8601 (`PT30S`, `PT1M`, `P1D`); calendar periods too (`P10D`, `P6M`, `P3Y`): years and months keep their',
    'calendar length.',
  ];
  for (const section of SECTIONS) {
    lines.push('', `## ${section}`, '', '| Variable | Default | What it does |', '| --- | --- | --- |');
    for (const variable of all.filter((entry) => entry.section === section)) {
      const fallback = variable.default === null ? 'unset' : `\`${variable.default}\``;
      const choices = variable.choices ? ` One of ${variable.choices.map((choice) => `\`${choice}\``).join(', ')}.` : '';
      const examples = variable.examples ? ` Example: ${variable.examples.map((example) => `\`${example}\``).join(', ')}.` : '';
      lines.push(`| \`${variable.name}\` | ${fallback} | ${escapeCell(variable.text)}${choices}${examples} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** .env.example: the same variables, each commented out at its default (or its example), by section. */
export function envExample(): string {
  const all = variables();
  const lines = [
    `# ${GENERATED}`,
    '#',
    '# Copy to .env and uncomment what you need: `cp .env.example .env`. The service reads ./.env at start; variables set in',
    '# the environment win over the file, and an empty value counts as unset. Never commit a .env with real secrets.',
    '# What each variable does: docs/configuration.md.',
  ];
  for (const section of SECTIONS) {
    lines.push('', `# --- ${section} ${'-'.repeat(Math.max(3, 90 - section.length))}`);
    for (const variable of all.filter((entry) => entry.section === section)) {
      lines.push('', ...wrap(variable.text, 100).map((line) => `# ${line}`));
      if (variable.choices) lines.push(`# One of: ${variable.choices.join(', ')}.`);
      const values = [...(variable.default === null ? [] : [envValue(variable.default)]), ...(variable.examples ?? [])];
      if (values.length === 0) values.push('');
      for (const value of values) lines.push(`#${variable.name}=${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const escapeCell = (text: string) => text.replace(/\|/g, '\\|');
/** A value with spaces or angle brackets is quoted, as a shell and dotenv read it. */
const envValue = (value: string) => (/[\s<>"]/.test(value) ? `"${value.replace(/"/g, '\\"')}"` : value);

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
