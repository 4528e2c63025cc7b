/**
 * Letters as A4 PDFs (pdfkit), in the letter fonts for both locales: the layout of the letterhead,
 * the addresses, the statement of amounts and the signature.
 */
import { readFileSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { LETTER_TYPES, type LetterFields, type LetterLocale, type LetterType, type RenderedLetter, UndrawableText } from '../domain/letter-fields';
import { type LetterVariables, letterVariables } from './letter-content';
import { codePointLabel, findUndrawable, type FontkitFont, type FontName, LetterFonts, letterFonts } from './letter-fonts';
import { type CompiledLayout, LetterTemplates, paragraphs } from './letter-templates';

const A4 = { margin: 56, top: 42, bottom: 50 };
/** Type sizes per locale: CJK body text is set at 11 pt at least, as Chinese letters are read. */
const SIZES: Record<LetterLocale, { body: number; small: number; letterhead: number; title: number }> = {
  en: { body: 10.5, small: 8.5, letterhead: 15, title: 15 },
  'zh-CN': { body: 11, small: 9, letterhead: 15, title: 16 },
};
const GREY = '#555555';
/** A link's colour: dark enough to print and photocopy as text. */
const LINK = '#1f4e8c';
const MARK_BLUE = '#1f4e79';
/** The generated signature badge (a seal image gets a square twice its height). */
const MARK = { width: 230, height: 40 };

/** pdfkit (with fontkit under it) loads with the first letter: most processes never render one. */
const loadPdfkit = () => import('pdfkit');
let pdfkit: ReturnType<typeof loadPdfkit> | undefined;

interface AmountRow {
  label: string;
  amount: string;
}

/** Renders letters from TEMPLATES_DIR/letters/<locale>/<type>.yaml, with layout.yaml's shared parts. */
@Injectable()
export class LetterRenderer {
  private readonly templates: LetterTemplates;
  private readonly fonts: LetterFonts;
  private readonly sealImage: Buffer | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.templates = new LetterTemplates(config.TEMPLATES_DIR);
    this.fonts = letterFonts();
    this.sealImage = config.SEAL_IMAGE ? readFileSync(config.SEAL_IMAGE) : null;
  }

  /** The letter's title in a locale, e.g. "Demand for Payment" or 催款通知书. */
  title(type: LetterType, locale: LetterLocale): string {
    return this.templates.letter(type, locale).title;
  }

  /** The version of the letter template loaded now (a letter's own is on its row). */
  version(type: LetterType, locale: LetterLocale): string {
    return this.templates.letter(type, locale).version;
  }

  /** What a letter says, as plain text in reading order, and the total it asks for (for quality inspection); the PDF draws the same parts. */
  text(fields: LetterFields): { text: string; totalDue: string } {
    const { letter, vars, content } = this.compose(fields);
    const rows = [...content.amounts, content.total].map((row) => `${row.label} ${row.amount}`);
    const text = [
      vars.creditor.name,
      ...vars.creditor.addressLines,
      content.contact,
      content.reference,
      content.dated,
      letter.title,
      content.salutation,
      ...content.body,
      content.amountsHeading,
      ...rows,
      ...content.conclusion,
      ...(content.online ? [content.online.text, content.online.url] : []),
      content.closing,
      content.seal,
    ].join('\n');
    return { text, totalDue: vars.totalDue };
  }

  /** The letter's parts from its template and fields, before layout. */
  private compose(fields: LetterFields) {
    const letter = this.templates.letter(fields.type, fields.locale);
    const layout = this.templates.layout(fields.locale);
    const titles = Object.fromEntries(LETTER_TYPES.map((type) => [type, this.title(type, fields.locale)])) as Record<LetterType, string>;
    const vars = letterVariables(fields, titles);
    const statement = letter.statement ? statementContent(layout, vars, fields.locale) : null;
    const content = {
      reference: layout.reference(vars),
      dated: layout.dated(vars),
      contact: layout.contact(vars),
      salutation: letter.salutation(vars),
      body: paragraphs(letter.body(vars)),
      amounts: summaryRows(layout, vars),
      amountsHeading: layout.amounts.heading(vars),
      total: { label: layout.amounts.total(vars), amount: vars.totalDue },
      conclusion: paragraphs(letter.conclusion(vars)),
      online: vars.selfServiceUrl ? { text: layout.online(vars), url: vars.selfServiceUrl } : null,
      closing: letter.closing(vars).trim(),
      seal: layout.seal(vars),
      enclosures: statement ? [statement.title] : [],
      enclosuresLabel: layout.enclosures(vars),
      statement,
    };
    return { letter, layout, vars, content };
  }

  async render(fields: LetterFields, issuedAt: Date): Promise<RenderedLetter> {
    const undrawable = await findUndrawable(fields);
    if (undrawable.length > 0) throw new UndrawableText(undrawable);

    const { letter, layout, vars, content } = this.compose(fields);
    // The fields passed the check above, so a character still missing comes from a template.
    // (JSON is just a quick way to get every string at once; its punctuation is all drawable.)
    const templateText = JSON.stringify(content) + letter.title;
    const missing = await this.fonts.undrawable(templateText);
    if (missing.length > 0) {
      throw new Error(
        `letter template letters/${fields.locale}/${fields.type}.yaml prints characters no letter font has: ${missing.map(codePointLabel).join(', ')}`,
      );
    }

    const SIZE = SIZES[fields.locale];
    const { default: PDFDocument } = await (pdfkit ??= loadPdfkit());
    const doc = new PDFDocument({
      size: 'A4',
      margins: { top: A4.top, bottom: A4.bottom, left: A4.margin, right: A4.margin },
      bufferPages: true, // page numbers are written once the page count is known
      lang: fields.locale === 'en' ? 'en-GB' : 'zh-CN',
      displayTitle: true,
      info: { Title: `${letter.title} ${vars.number}`, Author: vars.creditor.name, Subject: content.reference, CreationDate: issuedAt },
    });
    const done = collect(doc);
    const writer = new LetterWriter(doc, this.fonts, SIZE);
    const width = doc.page.width - 2 * A4.margin;
    const left = A4.margin;

    // Letterhead
    writer.write(vars.creditor.name, { size: SIZE.letterhead, bold: true });
    for (const line of [...vars.creditor.addressLines, content.contact]) writer.write(line, { size: SIZE.small, color: GREY });
    doc.moveDown(0.4);
    writer.rule(0.6, GREY);
    doc.moveDown(1);

    // Recipient at the left; our reference and the date at the right, level with it
    const blockTop = doc.y;
    for (const line of [vars.recipient.name, ...vars.recipient.addressLines]) writer.write(line, { size: SIZE.body, width: width * 0.6 });
    const recipientBottom = doc.y;
    writer.write(content.reference, { size: SIZE.body, align: 'right', width: width * 0.4 }, { x: left + width * 0.6, y: blockTop });
    writer.write(content.dated, { size: SIZE.body, align: 'right', width: width * 0.4 });
    doc.x = left;
    doc.y = Math.max(recipientBottom, doc.y);
    doc.moveDown(1.2);

    writer.write(letter.title, { size: SIZE.title, bold: true, align: 'center' });
    doc.moveDown(0.6);
    const paragraph = { size: SIZE.body, paragraphGap: 5 };
    writer.write(content.salutation, paragraph);
    for (const text of content.body) writer.write(text, paragraph);

    // Statement of amounts
    doc.moveDown(0.4);
    doc.fontSize(SIZE.body);
    writer.keepTogether((doc.currentLineHeight(true) + 6) * (content.amounts.length + 2));
    writer.write(content.amountsHeading, { size: SIZE.body, bold: true, paragraphGap: 3 });
    for (const row of content.amounts) writer.amountRow(row.label, row.amount, false);
    writer.amountRow(content.total.label, content.total.amount, true);
    doc.moveDown(0.8);

    for (const text of content.conclusion) writer.write(text, paragraph);
    if (content.online) {
      writer.write(content.online.text, { size: SIZE.body });
      // On a line of its own, so no word of the letter reads as part of it; a link where the PDF is read on screen.
      writer.write(content.online.url, { ...paragraph, link: content.online.url, color: LINK });
    }

    // Signature block and the enclosure list stay together, so neither sits alone on a page.
    // Chinese letters sign at the right (落款), English ones at the left.
    const align = fields.locale === 'zh-CN' ? 'right' : 'left';
    doc.moveDown(0.4);
    doc.fontSize(SIZE.body);
    const line = doc.currentLineHeight(true);
    const enclosureHeight = content.enclosures.length > 0 ? line * (content.enclosures.length + 2) : 0;
    writer.keepTogether(line * 4 + MARK.height + enclosureHeight);
    writer.write(content.closing, { size: SIZE.body });
    doc.moveDown(0.6);
    const signatureTop = doc.y;
    writer.write(vars.creditor.name, { size: SIZE.body, bold: true, align });
    writer.write(vars.date, { size: SIZE.body, align });
    // A seal image is stamped over the name and date (骑字盖章) in Chinese and beside them in
    // English; the generated badge sits beside them in both.
    const sealBox = this.sealImage
      ? {
          x: align === 'right' ? left + width - MARK.height * 2 : left + width * 0.55,
          y: signatureTop - MARK.height * 0.4,
          width: MARK.height * 2,
          height: MARK.height * 2,
        }
      : { x: align === 'right' ? left : left + width - MARK.width, y: signatureTop - 4, width: MARK.width, height: MARK.height };
    const markBottom = writer.signatureMark(content.seal, this.sealImage, sealBox);
    doc.x = left;
    doc.y = Math.max(signatureTop + line * 2, markBottom) + 4;

    if (content.enclosures.length > 0) {
      doc.moveDown(1);
      writer.write(content.enclosuresLabel, { size: SIZE.small, bold: true });
      for (const enclosure of content.enclosures) writer.write(enclosure, { size: SIZE.small });
    }

    if (content.statement) writer.statementPage(content.statement);

    writer.pageNumbers((page, pages) => layout.page({ page, pages }));
    doc.end();
    return { pdf: await done, templateKey: `letters/${fields.type}/${fields.locale}`, templateVersion: letter.version };
  }
}

/** The letter's own statement: the invoice, what was paid, what is owed of each part. */
function summaryRows(layout: CompiledLayout, vars: LetterVariables): AmountRow[] {
  return [
    { label: layout.amounts.principal(vars), amount: vars.principal },
    ...vars.payments.map((received) => ({ label: layout.amounts.payment({ ...vars, received }), amount: negative(received.amount) })),
    { label: layout.amounts.outstanding(vars), amount: vars.outstanding },
    ...(vars.fee ? [{ label: layout.amounts.fee(vars), amount: vars.fee.outstanding }] : []),
    ...(vars.hasCosts ? [{ label: layout.amounts.costs(vars), amount: vars.costs }] : []),
  ];
}

/** A payment shown as what it takes off the account. */
const negative = (amount: string) => `−${amount}`;

export interface StatementContent {
  title: string;
  about: string;
  rows: AmountRow[];
  periodsHeading: string | null;
  periods: AmountRow[];
  feeRows: AmountRow[];
  paymentsHeading: string | null;
  payments: string[];
  total: AmountRow;
}

/** The enclosed statement of account: every balance period of the late fee and every payment, as applied. */
function statementContent(layout: CompiledLayout, vars: LetterVariables, locale: LetterLocale): StatementContent {
  const fee = vars.fee;
  const order = vars.allocation.map((part) => layout.allocation[part]).join(locale === 'en' ? ', then ' : '、');
  return {
    title: layout.statement.title(vars),
    about: layout.statement.about(vars),
    rows: [
      { label: layout.amounts.principal(vars), amount: vars.principal },
      ...vars.payments.map((received) => ({ label: layout.amounts.payment({ ...vars, received }), amount: negative(received.amount) })),
      { label: layout.amounts.outstanding(vars), amount: vars.outstanding },
      ...(vars.hasCosts ? [{ label: layout.amounts.costs(vars), amount: vars.costs }] : []),
    ],
    periodsHeading: fee ? layout.statement.periods(vars) : null,
    periods: fee?.periods.map((period) => ({ label: layout.statement.period({ ...vars, period }), amount: period.fee })) ?? [],
    feeRows: fee
      ? [
          ...(fee.partlyPaid ? [{ label: layout.statement.feePaid(vars), amount: negative(fee.paid) }] : []),
          { label: layout.statement.feeOwed(vars), amount: fee.outstanding },
        ]
      : [],
    paymentsHeading: vars.payments.length > 0 ? layout.statement.payments({ ...vars, order }) : null,
    payments: vars.payments.map((received) => layout.statement.payment({ ...vars, received })),
    total: { label: layout.amounts.total(vars), amount: vars.totalDue },
  };
}

function collect(doc: PDFKit.PDFDocument): Promise<Buffer> {
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
}

interface WriteStyle {
  size: number;
  link?: string;
  bold?: boolean;
  color?: string;
  align?: 'left' | 'right' | 'center';
  paragraphGap?: number;
  width?: number;
}

/** Writes text in runs, each in the font that has its glyphs (pdfkit `continued` across runs). */
class LetterWriter {
  private readonly registered = new Set<FontName>();

  constructor(
    private readonly doc: PDFKit.PDFDocument,
    private readonly fonts: LetterFonts,
    private readonly size: (typeof SIZES)[LetterLocale],
  ) {}

  /** A full-width line at the current position. */
  rule(width: number, color: string): void {
    const { doc } = this;
    const left = doc.page.margins.left;
    doc
      .moveTo(left, doc.y)
      .lineTo(doc.page.width - doc.page.margins.right, doc.y)
      .lineWidth(width)
      .strokeColor(color)
      .stroke();
  }

  /**
   * The signature mark in `box`: the creditor's own seal (SEAL_IMAGE), or else a plain badge
   * saying the letter is signed electronically. The generated one is deliberately no look-alike of
   * a company seal (公章): only the creditor may supply its seal's image.
   */
  signatureMark(caption: string, image: Buffer | null, box: { x: number; y: number; width: number; height: number }): number {
    const { doc, size } = this;
    if (image) {
      doc.image(image, box.x, box.y, { fit: [box.width, box.height], align: 'center', valign: 'center' });
      return box.y + box.height;
    }
    // The text first, so the frame fits however the caption wraps.
    const inner = { width: box.width - 12, align: 'center' as const };
    this.write(caption, { size: size.small, bold: true, color: MARK_BLUE, ...inner }, { x: box.x + 6, y: box.y + 7 });
    this.write('PAdES · SHA-256', { size: size.small, color: GREY, ...inner });
    const bottom = doc.y + 5;
    doc
      .save()
      .lineWidth(1)
      .strokeColor(MARK_BLUE)
      .roundedRect(box.x, box.y, box.width, bottom - box.y, 6)
      .stroke()
      .restore();
    return bottom;
  }

  /** The enclosed statement of account, on a page of its own. */
  statementPage(statement: StatementContent): void {
    const { doc, size } = this;
    doc.addPage();
    this.write(statement.title, { size: size.title, bold: true });
    this.write(statement.about, { size: size.small, color: GREY, paragraphGap: 8 });
    for (const row of statement.rows) this.amountRow(row.label, row.amount, false);
    if (statement.periodsHeading) {
      doc.moveDown(0.6);
      this.write(statement.periodsHeading, { size: size.body, bold: true, paragraphGap: 3 });
      for (const row of [...statement.periods, ...statement.feeRows]) this.amountRow(row.label, row.amount, false);
    }
    doc.moveDown(0.3);
    this.amountRow(statement.total.label, statement.total.amount, true);
    if (statement.paymentsHeading) {
      doc.moveDown(1);
      this.write(statement.paymentsHeading, { size: size.body, bold: true, paragraphGap: 3 });
      for (const line of statement.payments) this.write(line, { size: size.small, paragraphGap: 2 });
    }
  }

  write(text: string, style: WriteStyle, at?: { x: number; y: number }): void {
    const runs = this.runs(text, style.bold ?? false);
    const options: PDFKit.Mixins.TextOptions = {
      align: style.align ?? 'left',
      paragraphGap: style.paragraphGap ?? 0,
      lineGap: 1.5,
      width: style.width,
      ...(style.link ? { link: style.link } : {}),
    };
    this.doc.fillColor(style.color ?? 'black').fontSize(style.size);
    runs.forEach((run, i) => {
      this.use(run.name, run.font);
      const last = i === runs.length - 1;
      if (i === 0 && at) this.doc.text(run.text, at.x, at.y, { ...options, continued: !last });
      else this.doc.text(run.text, { ...options, continued: !last });
    });
  }

  /** One line of the statement: label at the left, amount right-aligned. */
  amountRow(label: string, amount: string, total: boolean): void {
    const doc = this.doc;
    const left = doc.page.margins.left;
    const width = doc.page.width - left - doc.page.margins.right;
    const amountWidth = 110;
    const top = doc.y + 2;
    if (total)
      doc
        .moveTo(left, top - 1)
        .lineTo(left + width, top - 1)
        .lineWidth(0.6)
        .strokeColor('black')
        .stroke();
    this.write(label, { size: this.size.body, bold: total, width: width - amountWidth - 10 }, { x: left, y: top + 2 });
    const labelBottom = doc.y;
    this.write(amount, { size: this.size.body, bold: total, width: amountWidth, align: 'right' }, { x: left + width - amountWidth, y: top + 2 });
    doc.x = left;
    doc.y = Math.max(labelBottom, doc.y) + 2;
    if (!total)
      doc
        .moveTo(left, doc.y)
        .lineTo(left + width, doc.y)
        .lineWidth(0.3)
        .strokeColor('#bbbbbb')
        .stroke();
  }

  /** Starts a new page unless `height` points still fit, so a block is not split. */
  keepTogether(height: number): void {
    if (this.doc.y + height > this.doc.page.maxY()) this.doc.addPage();
  }

  /** "Page n of m" at the foot of every page, when there is more than one. */
  pageNumbers(label: (page: number, pages: number) => string): void {
    const { start, count } = this.doc.bufferedPageRange();
    if (count < 2) return;
    for (let i = start; i < start + count; i++) {
      const page = this.doc.switchToPage(i);
      const bottom = page.margins.bottom;
      // Writing inside the bottom margin would make pdfkit start a new page.
      page.margins.bottom = 0;
      this.write(
        label(i - start + 1, count),
        { size: this.size.small, color: GREY, align: 'center', width: page.width - 2 * A4.margin },
        { x: A4.margin, y: page.height - bottom / 2 - this.size.small },
      );
      page.margins.bottom = bottom;
    }
  }

  private use(name: FontName, font: FontkitFont): void {
    if (!this.registered.has(name)) {
      // pdfkit takes an opened fontkit font (PDFFontFactory.open checks for `layout`), so the
      // fonts are parsed once per process; its types only list paths and buffers.
      this.doc.registerFont(name, font as unknown as PDFKit.Mixins.PDFFontSource);
      this.registered.add(name);
    }
    this.doc.font(name);
  }

  private runs(text: string, bold: boolean): { name: FontName; font: FontkitFont; text: string }[] {
    const runs: { name: FontName; font: FontkitFont; text: string }[] = [];
    for (const char of text) {
      const last = runs.at(-1);
      // A line break has no glyph: it stays in the current run.
      const found = char === '\n' ? (last ?? this.fonts.fontFor(0x20, bold)) : this.fonts.fontFor(char.codePointAt(0)!, bold);
      if (!found) throw new Error(`no letter font has ${codePointLabel(char)} (${char}); findUndrawable should have refused it`);
      if (last && last.name === found.name) last.text += char;
      else runs.push({ name: found.name, font: found.font, text: char });
    }
    return runs;
  }
}
