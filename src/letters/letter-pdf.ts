/**
 * Letters as A4 PDFs (pdfkit), in the letter fonts for both locales: the layout of the letterhead,
 * the addresses, the statement of amounts and the signature.
 */
import { Inject, Injectable } from '@nestjs/common';
import PDFDocument from 'pdfkit';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { LETTER_TYPES, type LetterFields, type LetterLocale, type LetterType, type RenderedLetter, UndrawableText } from '../domain/letter-fields';
import { letterVariables } from './letter-content';
import { codePointLabel, findUndrawable, type FontkitFont, type FontName, LetterFonts, letterFonts } from './letter-fonts';
import { LetterTemplates, paragraphs } from './letter-templates';

const A4 = { margin: 56, top: 42, bottom: 50 };
const SIZE = { body: 10, small: 8, letterhead: 15, title: 15 };
const GREY = '#555555';

/** Renders letters from TEMPLATES_DIR/letters/<locale>/<type>.yaml, with layout.yaml's shared parts. */
@Injectable()
export class LetterRenderer {
  private readonly templates: LetterTemplates;
  private readonly fonts: LetterFonts;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.templates = new LetterTemplates(config.TEMPLATES_DIR);
    this.fonts = letterFonts();
  }

  /** The letter's title in a locale, e.g. "Demand for Payment" or 催款通知书. */
  title(type: LetterType, locale: LetterLocale): string {
    return this.templates.letter(type, locale).title;
  }

  async render(fields: LetterFields, issuedAt: Date): Promise<RenderedLetter> {
    const undrawable = await findUndrawable(fields);
    if (undrawable.length > 0) throw new UndrawableText(undrawable);

    const letter = this.templates.letter(fields.type, fields.locale);
    const layout = this.templates.layout(fields.locale);
    const titles = Object.fromEntries(LETTER_TYPES.map((type) => [type, this.title(type, fields.locale)])) as Record<LetterType, string>;
    const vars = letterVariables(fields, titles);
    const content = {
      reference: layout.reference(vars),
      dated: layout.dated(vars),
      contact: layout.contact(vars),
      salutation: letter.salutation(vars),
      body: paragraphs(letter.body(vars)),
      amounts: [
        { label: layout.amounts.principal(vars), amount: vars.principal },
        { label: layout.amounts.outstanding(vars), amount: vars.outstanding },
        ...(vars.fee ? [{ label: layout.amounts.fee(vars), amount: vars.fee.accrued }] : []),
      ],
      amountsHeading: layout.amounts.heading(vars),
      total: { label: layout.amounts.total(vars), amount: vars.totalDue },
      conclusion: paragraphs(letter.conclusion(vars)),
      closing: letter.closing(vars).trim(),
      seal: layout.seal(vars),
      enclosures: letter.enclosures.map((enclosure) => enclosure(vars)),
      enclosuresLabel: layout.enclosures(vars),
    };
    // The fields passed the check above, so a character still missing comes from a template.
    // (JSON is just a quick way to get every string at once; its punctuation is all drawable.)
    const templateText = JSON.stringify(content) + letter.title;
    const missing = await this.fonts.undrawable(templateText);
    if (missing.length > 0) {
      throw new Error(
        `letter template letters/${fields.locale}/${fields.type}.yaml prints characters no letter font has: ${missing.map(codePointLabel).join(', ')}`,
      );
    }

    const doc = new PDFDocument({
      size: 'A4',
      margins: { top: A4.top, bottom: A4.bottom, left: A4.margin, right: A4.margin },
      bufferPages: true, // page numbers are written once the page count is known
      lang: fields.locale === 'en' ? 'en-GB' : 'zh-CN',
      displayTitle: true,
      info: { Title: `${letter.title} ${vars.number}`, Author: vars.creditor.name, Subject: content.reference, CreationDate: issuedAt },
    });
    const done = collect(doc);
    const writer = new LetterWriter(doc, this.fonts);
    const width = doc.page.width - 2 * A4.margin;
    const left = A4.margin;

    // Letterhead
    writer.write(vars.creditor.name, { size: SIZE.letterhead, bold: true });
    for (const line of [...vars.creditor.addressLines, content.contact]) writer.write(line, { size: SIZE.small, color: GREY });
    doc.moveDown(0.4);
    doc
      .moveTo(left, doc.y)
      .lineTo(left + width, doc.y)
      .lineWidth(0.6)
      .strokeColor(GREY)
      .stroke();
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
    writer.keepTogether((doc.currentLineHeight(true) + 6) * (content.amounts.length + 2));
    writer.write(content.amountsHeading, { size: SIZE.body, bold: true, paragraphGap: 3 });
    for (const row of content.amounts) writer.amountRow(row.label, row.amount, false);
    writer.amountRow(content.total.label, content.total.amount, true);
    doc.moveDown(0.8);

    for (const text of content.conclusion) writer.write(text, paragraph);

    // Signature: Chinese letters sign at the right (落款), English ones at the left.
    const align = fields.locale === 'zh-CN' ? 'right' : 'left';
    doc.moveDown(0.4);
    writer.keepTogether(doc.currentLineHeight(true) * 5.5);
    writer.write(content.closing, { size: SIZE.body });
    doc.moveDown(1.2);
    writer.write(vars.creditor.name, { size: SIZE.body, bold: true, align });
    writer.write(content.seal, { size: SIZE.body, align, color: GREY });
    writer.write(vars.date, { size: SIZE.body, align });

    if (content.enclosures.length > 0) {
      doc.moveDown(1);
      doc.fontSize(SIZE.small);
      writer.keepTogether(doc.currentLineHeight(true) * (content.enclosures.length + 1));
      writer.write(content.enclosuresLabel, { size: SIZE.small, bold: true });
      for (const enclosure of content.enclosures) writer.write(enclosure, { size: SIZE.small });
    }

    writer.pageNumbers((page, pages) => layout.page({ page, pages }));
    doc.end();
    return { pdf: await done, templateKey: `letters/${fields.type}/${fields.locale}`, templateVersion: letter.version };
  }
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
  ) {}

  write(text: string, style: WriteStyle, at?: { x: number; y: number }): void {
    const runs = this.runs(text, style.bold ?? false);
    const options: PDFKit.Mixins.TextOptions = { align: style.align ?? 'left', paragraphGap: style.paragraphGap ?? 0, lineGap: 1.5, width: style.width };
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
    const amountWidth = 150;
    const top = doc.y + 2;
    if (total)
      doc
        .moveTo(left, top - 1)
        .lineTo(left + width, top - 1)
        .lineWidth(0.6)
        .strokeColor('black')
        .stroke();
    this.write(label, { size: SIZE.body, bold: total, width: width - amountWidth - 10 }, { x: left, y: top + 2 });
    const labelBottom = doc.y;
    this.write(amount, { size: SIZE.body, bold: total, width: amountWidth, align: 'right' }, { x: left + width - amountWidth, y: top + 2 });
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
        { size: SIZE.small, color: GREY, align: 'center', width: page.width - 2 * A4.margin },
        { x: A4.margin, y: page.height - bottom / 2 - SIZE.small },
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
