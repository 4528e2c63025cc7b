import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../../config/app-config';
import { type Locale, LOCALES, type NoticeVariables } from '../email/email-templates';
import { noticeVariables } from '../notice-variables.fixture';
import { SmsTemplates } from './sms-templates';

const TEMPLATES_DIR = './templates'; // the repository's, relative to the root Jest runs from
const NAMES = ['reminder-upcoming', 'reminder-friendly', 'reminder-firm', 'final-notice'];
const cases = NAMES.flatMap((name) => LOCALES.map((locale): [string, Locale] => [name, locale]));

describe('SmsTemplates', () => {
  const sut = new SmsTemplates({ TEMPLATES_DIR } as AppConfig);

  const variables = noticeVariables;
  // The longest values a template is likely to meet, for the length budget.
  const long: NoticeVariables = {
    ...variables,
    invoiceRef: 'INV-2026-000000042',
    contractRef: 'CTR-2026-000000077',
    amountText: '€1,234,567.89',
    creditor: 'Example Holding GmbH',
    dispute: { ...variables.dispute, phone: '+49 30 1234 5678 90' },
    unsubscribeUrl: 'https://pay.example.com/u/4f9c2a8b7e6d5c4b3a29',
  };

  it.each(NAMES)('has %s in every locale', (name) => {
    expect(sut.has(name)).toBe(true);
  });

  it('does not have a template that does not exist', () => {
    expect(sut.has('nope')).toBe(false);
  });

  it.each(cases)('renders %s in %s with the invoice, amount, due date and creditor', (name, locale) => {
    const sms = sut.render(name, locale, variables);
    for (const value of ['INV-2026-0042', '€1,250.50', '1 November 2026', 'Example GmbH', 'DE89 3704 0044 0532 0130 00']) expect(sms.text).toContain(value);
    expect(sms.text).not.toMatch(/\{\{|\}\}/);
    expect(sms.text).toBe(sms.text.trim());
  });

  it.each(cases)('ends %s in %s with an opt-out line carrying the unsubscribe URL', (name, locale) => {
    const lines = sut.render(name, locale, variables).text.split('\n');
    expect(lines[lines.length - 1]).toContain('https://pay.example.com/u/4f9c2a');
    expect(lines[lines.length - 1]).toMatch(locale === 'en' ? /^Stop: / : /^退订：/);
  });

  // How to pay and where to dispute make a notice SMS three or more segments; the budget keeps it there.
  it.each(cases)('keeps %s in %s under 340 characters with long values', (name, locale) => {
    expect([...sut.render(name, locale, long).text].length).toBeLessThan(340);
  });

  it.each(LOCALES)('mentions the contract only when there is one, in %s', (locale) => {
    expect(sut.render('reminder-firm', locale, variables).text).not.toContain('CTR-');
    expect(sut.render('reminder-firm', locale, { ...variables, contractRef: 'CTR-77' }).text).toContain('CTR-77');
  });

  it('does not escape: the text goes out as written', () => {
    expect(sut.render('reminder-friendly', 'en', { ...variables, creditor: 'Smith & Sons <AR>' }).text).toContain('Smith & Sons <AR>');
  });

  it('renders each locale in its own language, claiming earlier reminders only when the record holds them', () => {
    expect(sut.render('reminder-firm', 'en', variables).text).not.toMatch(/reminder/i);
    expect(sut.render('reminder-firm', 'en', { ...variables, remindersSent: 2 }).text).toMatch(/after 2 reminders/);
    expect(sut.render('reminder-firm', 'zh-CN', variables).text).toMatch(/付款提醒/);
    expect(sut.render('reminder-firm', 'zh-CN', variables).text).not.toMatch(/再次/);
    expect(sut.render('reminder-firm', 'zh-CN', { ...variables, remindersSent: 1 }).text).toMatch(/再次提醒/);
  });

  it.each(cases)('says in %s (%s) how to pay and where to dispute', (name, locale) => {
    const text = sut.render(name, locale, variables).text;
    expect(text).toContain('DE89 3704 0044 0532 0130 00');
    expect(text).toContain('+49 30 1234 5678');
    const online = sut.render(name, locale, { ...variables, payment: { ...variables.payment, link: 'https://pay.example.com/i/1' } }).text;
    expect(online).toContain('https://pay.example.com/i/1');
  });

  it('records the template key and a version per file', () => {
    const en = sut.render('reminder-firm', 'en', variables);
    const zh = sut.render('reminder-firm', 'zh-CN', variables);
    expect(en.templateKey).toBe('reminder-firm/en');
    expect(zh.templateKey).toBe('reminder-firm/zh-CN');
    expect(en.version).toMatch(/^[0-9a-f]{12}$/);
    expect(en.version).not.toBe(zh.version);
    expect(sut.render('reminder-firm', 'en', { ...variables, invoiceRef: 'X-1' }).version).toBe(en.version);
  });

  // Strict mode checks the variables a template prints; `{{#if contractRef}}` only tests one.
  it.each(['unsubscribeUrl', 'invoiceRef', 'amountText', 'dueDate', 'creditor'] as const)('throws when %s is missing', (key) => {
    const { [key]: _missing, ...rest } = variables;
    expect(() => sut.render('reminder-firm', 'en', rest as NoticeVariables)).toThrow(new RegExp(key));
  });

  it('throws for an empty unsubscribe URL rather than send an SMS with no way out', () => {
    expect(() => sut.render('reminder-firm', 'en', { ...variables, unsubscribeUrl: ' ' })).toThrow(/unsubscribeUrl/);
  });

  it('throws for a template that does not exist', () => {
    expect(() => sut.render('nope', 'zh-CN', variables)).toThrow(/nope\/zh-CN/);
  });

  describe('loading', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'sms-templates-spec-'));
      for (const locale of LOCALES) mkdirSync(join(dir, 'sms', locale), { recursive: true });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('has nothing when the directory holds no templates', () => {
      expect(new SmsTemplates({ TEMPLATES_DIR: join(dir, 'elsewhere') } as AppConfig).has('reminder-firm')).toBe(false);
    });

    it('does not have a template that exists in only one locale', () => {
      writeFileSync(join(dir, 'sms', 'en', 'only-en.yaml'), 'text: "Hi {{debtorName}}\\nStop: {{unsubscribeUrl}}"\n');
      const templates = new SmsTemplates({ TEMPLATES_DIR: dir } as AppConfig);
      expect(templates.has('only-en')).toBe(false);
      expect(templates.render('only-en', 'en', variables).text).toBe('Hi Ada Lovelace & Co\nStop: https://pay.example.com/u/4f9c2a');
    });

    it('refuses, naming the file, a template whose last line has no opt-out link', () => {
      writeFileSync(join(dir, 'sms', 'zh-CN', 'no-opt-out.yaml'), 'text: "退订：{{unsubscribeUrl}}\\n请付款"\n');
      expect(() => new SmsTemplates({ TEMPLATES_DIR: dir } as AppConfig)).toThrow(
        /no-opt-out\.yaml: text: must end with a line containing \{\{unsubscribeUrl\}\}/,
      );
    });

    it('refuses a template with fields an SMS does not have', () => {
      writeFileSync(join(dir, 'sms', 'en', 'email-like.yaml'), 'subject: "Hi"\ntext: "Stop: {{unsubscribeUrl}}"\n');
      expect(() => new SmsTemplates({ TEMPLATES_DIR: dir } as AppConfig)).toThrow(/email-like\.yaml/);
    });
  });
});
