import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFParse } from 'pdf-parse';
import { loadConfig } from '../config/config.schema';
import { LETTER_TYPES, type LetterFields, type LetterLocale, UndrawableText } from '../domain/letter-fields';
import { newChineseLetterFields, newLetterFields, partPaidLetterFields } from './letter-fields.fixture';
import { findUndrawable } from './letter-fonts';
import { LetterRenderer } from './letter-pdf';

const ISSUED_AT = new Date('2026-11-23T09:30:00Z');

/** The PDF's text as a reader extracts it, with line breaks and spaces collapsed so phrases match across lines. */
async function textOf(pdf: Buffer): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(pdf) });
  try {
    return (await parser.getText()).text.replace(/\s+/g, ' ');
  } finally {
    await parser.destroy();
  }
}

/** CJK text may be broken across lines anywhere; compare without any whitespace. */
const squeezed = (text: string) => text.replace(/\s+/g, '');

describe('LetterRenderer', () => {
  const sut = new LetterRenderer(loadConfig({ TEMPLATES_DIR: 'templates' }));

  it('renders an English payment demand with every figure a reader needs', async () => {
    const rendered = await sut.render(newLetterFields(), ISSUED_AT);
    const text = await textOf(rendered.pdf);

    expect(rendered.pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(text).toContain('Demand for Payment');
    expect(text).toContain('L-2026-000042');
    expect(text).toContain('INV-2026-0042');
    expect(text).toContain('C-2026-007');
    expect(text).toContain('5 January 2026');
    expect(text).toContain('€1,250.00');
    expect(text).toContain('EUR');
    expect(text).toContain('€8.50');
    expect(text).toContain('1,250.00 × 17 days × 0.04 % = 8.50');
    expect(text).toContain('Each further day of delay adds €0.50');
    expect(text).toContain('7 December 2026');
    expect(text).toContain('€1,258.50');
    expect(text).toContain('SW1A 1AA');
    expect(text).toContain('Mary Jones');
    expect(text).toContain('Signed electronically by Example Leasing Ltd');
    expect(text).toContain('account GB33BUKB20201555555555');
    expect(text).toContain('disputes@example.com');
    expect(rendered.templateKey).toBe('letters/payment-demand/en');
    expect(rendered.templateVersion).toMatch(/^[0-9a-f]{12}$/);
  });

  it('renders a Chinese payment demand in Chinese', async () => {
    const text = squeezed(await textOf((await sut.render(newChineseLetterFields(), ISSUED_AT)).pdf));

    expect(text).toContain('催款通知书');
    expect(text).toContain('尊敬的张伟：');
    expect(text).toContain('2026年11月23日');
    expect(text).toContain('¥1,250.00');
    expect(text).toContain('1,250.00×17天×0.04%=8.50');
    expect(text).toContain('违约金增加¥0.50');
    expect(text).toContain('合计¥1,258.50（大写：人民币壹仟贰佰伍拾捌元伍角）');
    expect(text).toContain('示例融资租赁有限公司已电子签名');
    expect(text).toContain('北京市朝阳区');
  });

  it('draws a rare character from a fallback subset of the font', async () => {
    // 禤 (a surname) is not in the chinese-simplified file but in numbered subset 49.
    const fields = newChineseLetterFields({ recipient: { role: 'debtor', name: '禤文', address: null }, debtor: { name: '禤文' } });
    expect(await findUndrawable(fields)).toEqual([]);

    const text = squeezed(await textOf((await sut.render(fields, ISSUED_AT)).pdf));

    expect(text).toContain('尊敬的禤文：');
  });

  it('refuses a character no font can draw, naming the field and the code point', async () => {
    const fields = newChineseLetterFields({ recipient: { role: 'debtor', name: '张\u{20000}', address: null } });

    await expect(findUndrawable(fields)).resolves.toEqual([{ field: 'recipient.name', char: '\u{20000}', codePoint: 'U+20000' }]);
    const error = await sut.render(fields, ISSUED_AT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UndrawableText);
    expect((error as UndrawableText).message).toContain('U+20000');
    expect((error as UndrawableText).message).toContain('recipient.name');
  });

  it('lists every undrawable character, in every field', async () => {
    const fields = newLetterFields({ documents: ['ok', 'bad 䶮'], recipient: { role: 'debtor', name: 'Ada', address: { line1: '\u{20000} Road' } } });

    expect(await findUndrawable(fields)).toEqual([
      { field: 'recipient.address.line1', char: '\u{20000}', codePoint: 'U+20000' },
      { field: 'documents[1]', char: '䶮', codePoint: 'U+4DAE' },
    ]);
  });

  it.each(LETTER_TYPES.flatMap((type) => (['en', 'zh-CN'] as LetterLocale[]).map((locale) => [type, locale] as const)))(
    'renders a %s in %s with its title',
    async (type, locale) => {
      const base = locale === 'en' ? newLetterFields() : newChineseLetterFields();
      const fields: LetterFields = {
        ...base,
        type,
        recipient: type === 'guarantor-notice' ? { role: 'guarantor', name: locale === 'en' ? 'Grace Hopper' : '王芳', address: null } : base.recipient,
        documents: ['Proof of income', '身份证复印件'],
        previousLetters: [{ number: 'L-2026-000001', type: 'payment-demand', date: '2026-11-01' }],
        guaranteeEndsOn: '2027-05-06',
      };
      const rendered = await sut.render(fields, ISSUED_AT);
      const text = squeezed(await textOf(rendered.pdf));

      expect(text).toContain(squeezed(sut.title(type, locale)));
      expect(rendered.templateKey).toBe(`letters/${type}/${locale}`);
      // Every letter says how to pay and how to dispute.
      for (const fact of [base.payment.account!, base.payment.reference, base.dispute.email!, base.dispute.phone!]) expect(text).toContain(squeezed(fact));
      if (type === 'contract-termination') expect(text).toContain('L-2026-000001');
      if (type === 'document-request') expect(text).toContain('身份证复印件');
      if (type === 'guarantor-notice') expect(text).toContain(squeezed(base.debtor.name));
    },
  );

  it('states that no late fee is charged when none applies, and prints no fee line', async () => {
    const text = await textOf((await sut.render(newLetterFields({ fee: null, totalDue: '1250.00' }), ISSUED_AT)).pdf);

    expect(text).toContain('No late fee is charged');
    expect(text).not.toContain('Late fee from');
    expect(text).not.toContain('0.04 %');
  });

  it('says when the late fee has reached its cap', async () => {
    const fee = {
      ...newLetterFields().fee!,
      startDate: '2026-01-01',
      days: 400,
      periods: [{ from: '2026-01-01', to: '2027-02-04', days: 400, base: '1250.00', product: '200.00', fee: '125.00' }],
      accrued: '125.00',
      outstanding: '125.00',
      perDay: '0.00',
      asOf: '2027-02-04',
      cap: '125.00',
      capped: true,
    };
    const text = await textOf((await sut.render(newLetterFields({ fee, totalDue: '1375.00' }), ISSUED_AT)).pdf);

    expect(text).toContain('1,250.00 × 400 days × 0.04 % = 200.00, limited to the agreed maximum of €125.00');
    expect(text).toContain('will not increase further');
  });

  it('renders the same bytes for the same letter, with the issue time as creation date', async () => {
    const first = await sut.render(newLetterFields(), ISSUED_AT);
    const second = await sut.render(newLetterFields(), ISSUED_AT);

    expect(first.pdf.equals(second.pdf)).toBe(true);
    const parser = new PDFParse({ data: new Uint8Array(first.pdf) });
    const info = await parser.getInfo();
    await parser.destroy();
    expect(info.info).toMatchObject({ Title: 'Demand for Payment L-2026-000042', Author: 'Example Leasing Ltd' });
    expect(info.getDateNode().CreationDate?.toISOString()).toBe(ISSUED_AT.toISOString());
  });

  it('encloses the statement of account it lists, on its own page, with every balance period and payment', async () => {
    const fields = partPaidLetterFields({ type: 'contract-termination' });
    const parser = new PDFParse({ data: new Uint8Array((await sut.render(fields, ISSUED_AT)).pdf) });
    const pages = (await parser.getText()).pages.map((page) => page.text.replace(/\s+/g, ' '));
    await parser.destroy();

    const last = pages.at(-1)!;
    expect(pages.slice(0, -1).join(' ')).toContain('Enclosure: Statement of account as at 23 November 2026');
    expect(last).toContain('Statement of account as at 23 November 2026');
    expect(last).toContain('7 November 2026 to 16 November 2026: 1,250.00 × 10 days × 0.04 % = 5.00');
    expect(last).toContain('17 November 2026 to 24 November 2026: 755.00 × 8 days × 0.04 % = 2.42');
    expect(last).toContain('applied in this order: costs, then late fee, then principal');
    expect(last).toContain('16 November 2026: €500.00, of which costs €0.00, late fee €5.00, principal €495.00');
    expect(last).toContain('€757.42');
    // No page but the enclosure holds less than the signature block.
    for (const page of pages.slice(1, -1)) expect(page).toContain('Yours sincerely');
  });

  it('words a guarantor notice for the guarantee type', async () => {
    const guarantor = { role: 'guarantor' as const, name: '王芳', address: null };
    const general = squeezed(
      await textOf((await sut.render(newChineseLetterFields({ type: 'guarantor-notice', recipient: guarantor, guaranteeType: 'general' }), ISSUED_AT)).pdf),
    );
    const joint = squeezed(
      await textOf((await sut.render(newChineseLetterFields({ type: 'guarantor-notice', recipient: guarantor, guaranteeType: 'joint' }), ISSUED_AT)).pdf),
    );

    expect(general).toContain('您作为一般保证人');
    expect(general).toContain('在债务人不能履行债务时');
    expect(joint).toContain('您作为连带责任保证人');
    expect(joint).toContain('承担连带责任');
  });

  it('warns of termination only while the contract is in force', async () => {
    const inForce = await textOf((await sut.render(newLetterFields(), ISSUED_AT)).pdf);
    const terminated = await textOf((await sut.render(newLetterFields({ contract: { ...newLetterFields().contract, inForce: false } }), ISSUED_AT)).pdf);

    expect(inForce).toContain('we will terminate contract C-2026-007');
    expect(terminated).not.toMatch(/terminat/i);
  });

  it('numbers the pages of a letter longer than one page', async () => {
    const documents = Array.from({ length: 60 }, (_, i) => `Supporting document number ${i + 1}`);
    const text = await textOf((await sut.render(newLetterFields({ type: 'document-request', documents }), ISSUED_AT)).pdf);

    expect(text).not.toContain('Enclosure');
    const pages = Number(/Page 1 of (\d+)/.exec(text)?.[1]);
    expect(pages).toBeGreaterThan(1);
    expect(text).toContain(`Page ${pages} of ${pages}`);
  });

  it('has one version per template source', async () => {
    const en = await sut.render(newLetterFields(), ISSUED_AT);
    const zh = await sut.render(newChineseLetterFields(), ISSUED_AT);

    expect(en.templateVersion).not.toBe(zh.templateVersion);
  });
});

describe('LetterRenderer templates', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'letter-templates-spec-'));
    cpSync('templates/letters', join(dir, 'letters'), { recursive: true });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names a missing template file at construction', () => {
    rmSync(join(dir, 'letters', 'zh-CN', 'guarantor-notice.yaml'));

    expect(() => new LetterRenderer(loadConfig({ TEMPLATES_DIR: dir }))).toThrow(/letters\/zh-CN\/guarantor-notice\.yaml is missing/);
  });

  it('names a template with a missing key', () => {
    writeFileSync(join(dir, 'letters', 'en', 'payment-demand.yaml'), 'title: Demand\nsalutation: Dear {{recipient.name}}\n');

    expect(() => new LetterRenderer(loadConfig({ TEMPLATES_DIR: dir }))).toThrow(/payment-demand\.yaml: body: .*conclusion/s);
  });

  it('refuses to render template text no font can draw', async () => {
    const file = join(dir, 'letters', 'en', 'payment-demand.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('closing: Yours sincerely,', 'closing: "Yours sincerely, \u{20000}"'));
    const renderer = new LetterRenderer(loadConfig({ TEMPLATES_DIR: dir }));

    await expect(renderer.render(newLetterFields(), ISSUED_AT)).rejects.toThrow(
      /letters\/en\/payment-demand\.yaml prints characters no letter font has: U\+20000/,
    );
  });

  it('names a template with a Handlebars syntax error', () => {
    const layout = join(dir, 'letters', 'en', 'layout.yaml');
    writeFileSync(layout, readFileSync(layout, 'utf8').replace('reference: "Our ref.: {{number}}"', 'reference: "{{#if number}}"'));

    expect(() => new LetterRenderer(loadConfig({ TEMPLATES_DIR: dir }))).toThrow(/layout\.yaml, reference: Parse error/);
  });
});
