/**
 * Letters as A4 PDFs (pdfkit), in Noto Sans SC for both locales. A character the fonts cannot
 * draw refuses the letter (UndrawableText) instead of printing a blank box: a letter is evidence.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { Inject, Injectable } from '@nestjs/common';
import Handlebars from 'handlebars';
import PDFDocument from 'pdfkit';
import { parse } from 'yaml';
import { z } from 'zod';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { letterVariables, type LetterVariables, printedTexts } from './letter-content';
import {
  LETTER_TYPES,
  type LetterFields,
  type LetterLocale,
  type LetterType,
  type RenderedLetter,
  type UndrawableCharacter,
  UndrawableText,
} from '../domain/letter-fields';

const LOCALES: readonly LetterLocale[] = ['en', 'zh-CN'];

// --- fonts -----------------------------------------------------------------------------------

/** The part of a fontkit font used here; fontkit (pdfkit's own font engine) ships no types. */
interface FontkitFont {
  readonly characterSet: number[];
  hasGlyphForCodePoint(codePoint: number): boolean;
}

/**
 * Resolves packages from the project root: the same code runs as CommonJS (nest build) and as
 * ESM (Jest), where neither `require` nor `import.meta` exists in both.
 */
const projectRequire = createRequire(join(process.cwd(), 'package.json'));
const fontkit = projectRequire('fontkit') as { create(data: Uint8Array): FontkitFont };

const MAIN_FONT = 'noto-sans-sc-chinese-simplified-400-normal.woff';
const BOLD_FONT = 'noto-sans-sc-chinese-simplified-700-normal.woff';
/** The other subsets of the same family (numbered CJK slices, latin-ext, cyrillic, vietnamese). */
const FALLBACK_FONT = /^noto-sans-sc-.+-400-normal\.woff$/;

/**
 * WOFF 1 → plain sfnt (OTF/TTF), inflated with node:zlib. fontkit inflates WOFF tables with a
 * pure-JS inflater that rejects some of these files (noto-sans-sc-101's cmap) and is slower.
 */
function woffToSfnt(woff: Buffer, file: string): Buffer {
  if (woff.toString('latin1', 0, 4) !== 'wOFF') throw new Error(`${file} is not a WOFF font`);
  const count = woff.readUInt16BE(12);
  const tables = Array.from({ length: count }, (_, i) => {
    const entry = 44 + i * 20;
    const offset = woff.readUInt32BE(entry + 4);
    const compressed = woff.readUInt32BE(entry + 8);
    const length = woff.readUInt32BE(entry + 12);
    const stored = woff.subarray(offset, offset + compressed);
    return { tag: woff.subarray(entry, entry + 4), checksum: woff.readUInt32BE(entry + 16), data: compressed < length ? inflateSync(stored) : stored };
  });
  const offsets: number[] = [];
  let size = 12 + 16 * count;
  for (const table of tables) {
    offsets.push(size);
    size += (table.data.length + 3) & ~3; // tables are 4-byte aligned
  }
  const sfnt = Buffer.alloc(size);
  woff.copy(sfnt, 0, 4, 8); // flavor: OTTO or 0x00010000
  const power = 2 ** Math.floor(Math.log2(count));
  sfnt.writeUInt16BE(count, 4);
  sfnt.writeUInt16BE(power * 16, 6);
  sfnt.writeUInt16BE(Math.log2(power), 8);
  sfnt.writeUInt16BE(count * 16 - power * 16, 10);
  tables.forEach((table, i) => {
    const record = 12 + i * 16;
    table.tag.copy(sfnt, record);
    sfnt.writeUInt32BE(table.checksum, record + 4);
    sfnt.writeUInt32BE(offsets[i], record + 8);
    sfnt.writeUInt32BE(table.data.length, record + 12);
    table.data.copy(sfnt, offsets[i]);
  });
  return sfnt;
}

function openFont(data: Buffer, file: string): FontkitFont {
  const font = fontkit.create(woffToSfnt(data, file));
  try {
    font.hasGlyphForCodePoint(0x20); // parses the cmap now, so a broken file is named here
  } catch (error) {
    throw new Error(`${file}: unreadable font (${error instanceof Error ? error.message : String(error)})`);
  }
  return font;
}

/** pdfkit font names: the two main weights, or `fallback/<file>`. */
type FontName = string;

/**
 * The letter fonts, opened once per process and shared by every document (pdfkit subsets per
 * document). The index of fallback subsets is built on the first character the main font lacks.
 */
class LetterFonts {
  readonly regular: FontkitFont;
  readonly bold: FontkitFont;
  private fallbackIndex: Promise<ReadonlyMap<number, string>> | null = null;
  private loadedIndex: ReadonlyMap<number, string> = new Map();
  private readonly fallbacks = new Map<string, FontkitFont>();

  constructor(private readonly dir: string) {
    for (const file of [MAIN_FONT, BOLD_FONT]) {
      if (!existsSync(join(dir, file))) throw new Error(`letter font ${join(dir, file)} is missing; reinstall @fontsource/noto-sans-sc`);
    }
    this.regular = openFont(readFileSync(join(dir, MAIN_FONT)), MAIN_FONT);
    this.bold = openFont(readFileSync(join(dir, BOLD_FONT)), BOLD_FONT);
  }

  /** The characters of `text` no font can draw; opens the fallback fonts the others need. */
  async undrawable(text: string): Promise<string[]> {
    const missing = [...new Set(text)].filter((char) => char !== '\n' && !this.regular.hasGlyphForCodePoint(char.codePointAt(0)!));
    if (missing.length === 0) return [];
    const index = await this.index();
    const undrawable: string[] = [];
    for (const char of missing) {
      const file = index.get(char.codePointAt(0)!);
      if (file === undefined) undrawable.push(char);
      else if (!this.fallbacks.has(file)) this.fallbacks.set(file, openFont(await readFile(join(this.dir, file)), file));
    }
    return undrawable;
  }

  /** The font for a character, bold where the bold face has it; call after `undrawable` saw the text. */
  fontFor(codePoint: number, bold: boolean): { name: FontName; font: FontkitFont } | null {
    if (bold && this.bold.hasGlyphForCodePoint(codePoint)) return { name: 'bold', font: this.bold };
    if (this.regular.hasGlyphForCodePoint(codePoint)) return { name: 'regular', font: this.regular };
    // The subsets come in 400 only here: a rare character in a heading is drawn regular.
    const file = this.loadedIndex.get(codePoint);
    const font = file === undefined ? undefined : this.fallbacks.get(file);
    return font ? { name: `fallback/${file}`, font } : null;
  }

  private index(): Promise<ReadonlyMap<number, string>> {
    this.fallbackIndex ??= this.buildIndex().then((index) => (this.loadedIndex = index));
    return this.fallbackIndex;
  }

  private async buildIndex(): Promise<ReadonlyMap<number, string>> {
    // Sorted so that a character in several subsets always resolves to the same file.
    const files = (await readdir(this.dir)).filter((file) => FALLBACK_FONT.test(file) && file !== MAIN_FONT).sort();
    const index = new Map<number, string>();
    for (const file of files) {
      for (const codePoint of openFont(await readFile(join(this.dir, file)), file).characterSet) {
        if (!index.has(codePoint) && !this.regular.hasGlyphForCodePoint(codePoint)) index.set(codePoint, file);
      }
    }
    return index;
  }
}

let sharedFonts: LetterFonts | null = null;

function letterFonts(): LetterFonts {
  sharedFonts ??= new LetterFonts(join(dirname(projectRequire.resolve('@fontsource/noto-sans-sc/package.json')), 'files'));
  return sharedFonts;
}

function codePointLabel(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Every character of the printed fields that no letter font can draw, with the field it is in. */
export async function findUndrawable(fields: LetterFields): Promise<UndrawableCharacter[]> {
  const fonts = letterFonts();
  const found: UndrawableCharacter[] = [];
  for (const { field, text } of printedTexts(fields)) {
    for (const char of await fonts.undrawable(text)) found.push({ field, char, codePoint: codePointLabel(char) });
  }
  return found;
}

// --- templates -------------------------------------------------------------------------------

const text = z.string().min(1);
const letterFile = z.strictObject({
  /** Plain text: also used on its own (email cover, earlier letters named in a later one). */
  title: text.refine((value) => !value.includes('{{'), 'must be plain text, without {{variables}}'),
  salutation: text,
  body: text,
  conclusion: text,
  closing: text,
  enclosures: z.array(text).default([]),
});
const layoutFile = z.strictObject({
  reference: text,
  dated: text,
  contact: text,
  amounts: z.strictObject({ heading: text, principal: text, outstanding: text, fee: text, total: text }),
  enclosures: text,
  seal: text,
  page: text,
  partials: z.record(z.string(), text).default({}),
});

type Text = Handlebars.TemplateDelegate<LetterVariables>;

interface CompiledLayout {
  reference: Text;
  dated: Text;
  contact: Text;
  amounts: { heading: Text; principal: Text; outstanding: Text; fee: Text; total: Text };
  enclosures: Text;
  seal: Text;
  page: Handlebars.TemplateDelegate<{ page: number; pages: number }>;
}

interface CompiledLetter {
  title: string;
  salutation: Text;
  body: Text;
  conclusion: Text;
  closing: Text;
  enclosures: Text[];
  version: string;
}

function loadYaml<T>(file: string, schema: z.ZodType<T>): { data: T; source: string } {
  if (!existsSync(file)) throw new Error(`letter template ${file} is missing`);
  const source = readFileSync(file, 'utf8');
  let document: unknown;
  try {
    document = parse(source);
  } catch (error) {
    throw new Error(`letter template ${file} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = schema.safeParse(document);
  if (!parsed.success)
    throw new Error(`letter template ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  return { data: parsed.data, source };
}

/** Paragraphs are separated by blank lines; a single line break stays a line break. */
function paragraphs(rendered: string): string[] {
  return rendered
    .split(/\n[ \t]*\n/)
    .map((paragraph) => paragraph.trim())
    .filter(Boolean);
}

// --- rendering -------------------------------------------------------------------------------

const A4 = { margin: 56, top: 42, bottom: 50 };
const SIZE = { body: 10, small: 8, letterhead: 15, title: 15 };
const GREY = '#555555';

/** Renders letters from TEMPLATES_DIR/letters/<locale>/<type>.yaml, with layout.yaml's shared parts. */
@Injectable()
export class LetterRenderer {
  private readonly layouts = new Map<LetterLocale, CompiledLayout>();
  private readonly letters = new Map<string, CompiledLetter>();
  private readonly fonts: LetterFonts;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    for (const locale of LOCALES) {
      const dir = join(config.TEMPLATES_DIR, 'letters', locale);
      // One Handlebars environment per locale: partials are per locale.
      const handlebars = Handlebars.create();
      handlebars.registerHelper('plural', (count: number, one: string, many: string) => (count === 1 ? one : many));
      const layoutPath = join(dir, 'layout.yaml');
      const layout = loadYaml(layoutPath, layoutFile);
      const compile = <C>(source: string, file: string, key: string): Handlebars.TemplateDelegate<C> => {
        try {
          handlebars.parse(source); // compile() is lazy: find syntax errors at boot, not on the first letter
        } catch (error) {
          throw new Error(`letter template ${file}, ${key}: ${error instanceof Error ? error.message : String(error)}`);
        }
        return handlebars.compile<C>(source, { noEscape: true, strict: true });
      };
      for (const [name, source] of Object.entries(layout.data.partials)) {
        compile(source, layoutPath, `partials.${name}`);
        handlebars.registerPartial(name, source);
      }
      const { amounts } = layout.data;
      this.layouts.set(locale, {
        reference: compile(layout.data.reference, layoutPath, 'reference'),
        dated: compile(layout.data.dated, layoutPath, 'dated'),
        contact: compile(layout.data.contact, layoutPath, 'contact'),
        amounts: {
          heading: compile(amounts.heading, layoutPath, 'amounts.heading'),
          principal: compile(amounts.principal, layoutPath, 'amounts.principal'),
          outstanding: compile(amounts.outstanding, layoutPath, 'amounts.outstanding'),
          fee: compile(amounts.fee, layoutPath, 'amounts.fee'),
          total: compile(amounts.total, layoutPath, 'amounts.total'),
        },
        enclosures: compile(layout.data.enclosures, layoutPath, 'enclosures'),
        seal: compile(layout.data.seal, layoutPath, 'seal'),
        page: compile(layout.data.page, layoutPath, 'page'),
      });
      for (const type of LETTER_TYPES) {
        const file = join(dir, `${type}.yaml`);
        const { data, source } = loadYaml(file, letterFile);
        this.letters.set(`${type}/${locale}`, {
          title: data.title,
          salutation: compile(data.salutation, file, 'salutation'),
          body: compile(data.body, file, 'body'),
          conclusion: compile(data.conclusion, file, 'conclusion'),
          closing: compile(data.closing, file, 'closing'),
          enclosures: data.enclosures.map((enclosure, i) => compile(enclosure, file, `enclosures.${i}`)),
          // The letter prints its layout too, so both sources make the version.
          version: createHash('sha256').update(layout.source).update('\0').update(source).digest('hex').slice(0, 12),
        });
      }
    }
    this.fonts = letterFonts();
  }

  /** The letter's title in a locale, e.g. "Demand for Payment" or 催款通知书. */
  title(type: LetterType, locale: LetterLocale): string {
    return this.letter(type, locale).title;
  }

  async render(fields: LetterFields, issuedAt: Date): Promise<RenderedLetter> {
    const undrawable = await findUndrawable(fields);
    if (undrawable.length > 0) throw new UndrawableText(undrawable);

    const letter = this.letter(fields.type, fields.locale);
    const layout = this.layouts.get(fields.locale)!;
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

  private letter(type: LetterType, locale: LetterLocale): CompiledLetter {
    const letter = this.letters.get(`${type}/${locale}`);
    if (!letter) throw new Error(`no letter template ${type}/${locale}`);
    return letter;
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
