import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_DOCS } from './config.docs';
import { configurationMarkdown, envExample } from './config-reference';
import { configSchema } from './config.schema';

describe('the configuration reference', () => {
  it('documents every variable the schema reads, and nothing else', () => {
    expect(Object.keys(CONFIG_DOCS).sort()).toEqual(Object.keys(configSchema.shape).sort());
  });

  it('docs/configuration.md is the one the schema generates (run `npm run docs:config` after changing a setting)', () => {
    expect(readFileSync(join(process.cwd(), 'docs', 'configuration.md'), 'utf8')).toBe(configurationMarkdown());
  });

  it('.env.example is the one the schema generates (run `npm run docs:config` after changing a setting)', () => {
    expect(readFileSync(join(process.cwd(), '.env.example'), 'utf8')).toBe(envExample());
  });

  it('states each default as the schema applies it', () => {
    expect(configurationMarkdown()).toContain('| `SCHEDULE_HORIZON` | `PT6H` |');
    expect(configurationMarkdown()).toContain('| `SMTP_URL` | unset |');
    expect(envExample()).toContain('#MAIL_FROM="Accounts Receivable <billing@example.com>"');
  });
});
