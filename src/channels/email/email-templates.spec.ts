import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../../config/app-config';
import { noticeVariables } from '../notice-variables.fixture';
import { EmailTemplates, type Locale, type NoticeVariables, pickLocale } from './email-templates';

const TEMPLATES_DIR = './templates'; // the repository's, relative to the root Jest runs from

describe('pickLocale', () => {
  it.each<[string | null, Locale, Locale]>([
    ['en', 'zh-CN', 'en'],
    ['zh-CN', 'en', 'zh-CN'],
    ['zh-cn', 'en', 'zh-CN'],
    ['zh', 'en', 'zh-CN'],
    ['zh-TW', 'en', 'zh-CN'],
    ['zh-Hant-TW', 'en', 'zh-CN'],
    ['EN-us', 'zh-CN', 'en'],
    ['en-GB', 'zh-CN', 'en'],
    ['de', 'en', 'en'],
    ['de', 'zh-CN', 'zh-CN'],
    ['de-DE', 'zh-CN', 'zh-CN'],
    [null, 'en', 'en'],
    [null, 'zh-CN', 'zh-CN'],
    ['', 'zh-CN', 'zh-CN'],
  ])('picks %p with fallback %s as %s', (requested, fallback, expected) => {
    expect(pickLocale(requested, fallback)).toBe(expected);
  });
});

describe('EmailTemplates', () => {
  const sut = new EmailTemplates({ TEMPLATES_DIR } as AppConfig);

  const variables: NoticeVariables = {
    ...noticeVariables,
    debtorName: 'Ada <script>alert(1)</script> & Co',
    unsubscribeUrl: 'https://dunning.example/v1/unsubscribe/t0ken',
  };

  it('has the templates present in every locale', () => {
    expect(sut.has('reminder-friendly')).toBe(true);
    expect(sut.has('reminder-firm')).toBe(true);
    expect(sut.has('final-notice')).toBe(true);
  });

  it.each(['reminder-upcoming', 'reminder-friendly', 'reminder-firm', 'final-notice'])(
    '%s carries the opt-out link in text and HTML, in every locale',
    (name) => {
      for (const locale of ['en', 'zh-CN'] as const) {
        const email = sut.render(name, locale, variables);
        expect(email.text).toContain(variables.unsubscribeUrl);
        expect(email.html).toContain(`href="${variables.unsubscribeUrl}"`);
      }
    },
  );

  it('does not have a template that does not exist', () => {
    expect(sut.has('nope')).toBe(false);
  });

  it('has nothing when the directory holds no templates', () => {
    const empty = new EmailTemplates({ TEMPLATES_DIR: join(TEMPLATES_DIR, 'does-not-exist') } as AppConfig);
    expect(empty.has('reminder-friendly')).toBe(false);
  });

  it('does not have a template that exists in only one locale', () => {
    const dir = mkdtempSync(join(tmpdir(), 'email-templates-spec-'));
    try {
      mkdirSync(join(dir, 'email', 'en'), { recursive: true });
      mkdirSync(join(dir, 'email', 'zh-CN'), { recursive: true });
      const template = 'subject: "Hi {{debtorName}}"\ntext: "Hi {{debtorName}}"\nhtml: "<p>Hi {{debtorName}}</p>"\n';
      writeFileSync(join(dir, 'email', 'en', 'both.yaml'), template);
      writeFileSync(join(dir, 'email', 'zh-CN', 'both.yaml'), template);
      writeFileSync(join(dir, 'email', 'en', 'only-en.yaml'), template);
      const templates = new EmailTemplates({ TEMPLATES_DIR: dir } as AppConfig);
      expect(templates.has('both')).toBe(true);
      expect(templates.has('only-en')).toBe(false);
      expect(templates.render('only-en', 'en', variables).text).toBe(`Hi ${variables.debtorName}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each<Locale>(['en', 'zh-CN'])('renders reminder-friendly in %s, escaping the HTML part but not the text part', (locale) => {
    const email = sut.render('reminder-friendly', locale, variables);
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&amp; Co');
    expect(email.text).toContain('Ada <script>alert(1)</script> & Co');
  });

  it.each<Locale>(['en', 'zh-CN'])('puts the amount, the invoice reference and the creditor into every part in %s', (locale) => {
    const email = sut.render('reminder-friendly', locale, variables);
    expect(email.subject).toContain('INV-2026-0042');
    for (const part of [email.text, email.html]) {
      expect(part).toContain('INV-2026-0042');
      expect(part).toContain('1250.50');
      expect(part).toContain('€1,250.50');
      expect(part).toContain('EUR');
      expect(part).toContain('1 November 2026');
      expect(part).toContain('Example GmbH');
    }
  });

  it('renders each locale in its own language', () => {
    expect(sut.render('reminder-friendly', 'en', variables).subject).toMatch(/Payment reminder/);
    expect(sut.render('reminder-friendly', 'zh-CN', variables).subject).toMatch(/还款提醒/);
  });

  it('mentions the contract only when there is one', () => {
    expect(sut.render('reminder-friendly', 'en', variables).text).not.toContain('C-77');
    const withContract = sut.render('reminder-friendly', 'en', { ...variables, contractRef: 'C-77' });
    expect(withContract.text).toContain('C-77');
    expect(withContract.html).toContain('C-77');
  });

  it('records the template key and a version', () => {
    const en = sut.render('reminder-friendly', 'en', variables);
    const zh = sut.render('reminder-friendly', 'zh-CN', variables);
    expect(en.templateKey).toBe('reminder-friendly/en');
    expect(zh.templateKey).toBe('reminder-friendly/zh-CN');
    expect(en.version).toMatch(/^[0-9a-f]{12}$/);
    expect(en.version).not.toBe(zh.version);
    expect(sut.render('reminder-friendly', 'en', { ...variables, debtorName: 'Bob' }).version).toBe(en.version);
  });

  it('throws for a template that does not exist', () => {
    expect(() => sut.render('nope', 'en', variables)).toThrow(/nope\/en/);
  });

  const NOTICES = ['reminder-upcoming', 'reminder-friendly', 'reminder-firm', 'final-notice'];
  const everyNotice = NOTICES.flatMap((name) => (['en', 'zh-CN'] as const).map((locale): [string, Locale] => [name, locale]));
  // Words that claim earlier contact: only the record may say them.
  const EARLIER_CONTACT = { en: /again|second|earlier|despite|reminded|reminders|we have sent you/i, 'zh-CN': /再次|多次|已提醒|提醒过|提醒您/ };

  it.each(everyNotice)('%s in %s claims no earlier contact on a first contact', (name, locale) => {
    const email = sut.render(name, locale, variables);
    for (const part of [email.subject, email.text, email.html]) expect(part).not.toMatch(EARLIER_CONTACT[locale]);
  });

  it.each<Locale>(['en', 'zh-CN'])('states the reminders the record holds, with the last date, in %s', (locale) => {
    const email = sut.render('reminder-firm', locale, { ...variables, remindersSent: 2, lastReminderDate: '9 November 2026' });
    expect(email.text).toMatch(EARLIER_CONTACT[locale]);
    expect(email.text).toContain(
      locale === 'en' ? 'We have sent you 2 reminders about it, the last on 9 November 2026.' : '我方已就此提醒您2次，最近一次为9 November 2026。',
    );
    expect(sut.render('reminder-firm', 'en', { ...variables, remindersSent: 1, lastReminderDate: '9 November 2026' }).text).toContain('1 reminder about it');
  });

  it.each<Locale>(['en', 'zh-CN'])('promises a formal demand in %s only while none was sent', (locale) => {
    const demand = locale === 'en' ? 'we will send a formal payment demand' : '我方将发出正式催款函';
    expect(sut.render('reminder-firm', locale, variables).text).toContain(demand);
    const after = sut.render('reminder-firm', locale, { ...variables, demandsSent: 1 }).text;
    expect(after).not.toContain(demand);
    expect(after).toContain(locale === 'en' ? 'We have already sent you a formal payment demand' : '我方已向您发出正式催款函');
  });

  it.each<Locale>(['en', 'zh-CN'])('warns of termination in %s only while the contract is in force', (locale) => {
    const withContract = { ...variables, contractRef: 'CTR-77' };
    const termination = locale === 'en' ? /terminate/ : /解除合同/;
    expect(sut.render('final-notice', locale, withContract).text).toMatch(termination);
    const after = sut.render('final-notice', locale, { ...withContract, contractInForce: false });
    for (const part of [after.text, after.html]) expect(part).not.toMatch(termination);
  });

  it.each(everyNotice)('%s in %s says how to pay and how to dispute', (name, locale) => {
    const email = sut.render(name, locale, variables);
    for (const part of [email.text, email.html]) {
      for (const fact of ['DE89 3704 0044 0532 0130 00', 'Berliner Bank', 'INV-2026-0042', 'disputes@example.com', '+49 30 1234 5678'])
        expect(part).toContain(fact);
    }
  });

  it('offers a payment link when there is no account, and asks for details when there is neither', () => {
    const link = 'https://pay.example.com/i/INV-2026-0042';
    const online = sut.render('reminder-firm', 'en', { ...variables, payment: { ...variables.payment, account: null, bank: null, link } });
    expect(online.text).toContain(`How to pay: pay online at ${link}.`);
    expect(online.html).toContain(`href="${link}"`);
    const neither = sut.render('reminder-firm', 'en', { ...variables, payment: { ...variables.payment, account: null, bank: null, link: null } });
    expect(neither.text).toContain('write to disputes@example.com for our bank details');
  });

  it('splits the amount into principal and fees when fees are owed', () => {
    const email = sut.render('reminder-firm', 'en', { ...variables, amountText: '€1,257.11', principalText: '€1,250.00', feesText: '€7.11' });
    expect(email.text).toContain('Amount outstanding: €1,257.11 (EUR 1250.50), of which principal €1,250.00 and late fees and costs €7.11');
  });

  it('escapes what the HTML partials print', () => {
    const email = sut.render('reminder-firm', 'en', { ...variables, payment: { ...variables.payment, payee: 'Smith & Sons' } });
    expect(email.html).toContain('Smith &amp; Sons');
    expect(email.text).toContain('Smith & Sons');
  });
});
