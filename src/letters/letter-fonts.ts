/**
 * The letter fonts: Noto Sans SC (both weights) from @fontsource/noto-sans-sc, with the package's
 * other subsets as fallbacks for rare characters. A character none of them has refuses the letter
 * (UndrawableText) instead of printing a blank box: a letter is evidence.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import type { LetterFields, UndrawableCharacter } from '../domain/letter-fields';
import { printedTexts } from './letter-content';

/** The part of a fontkit font used here; fontkit (pdfkit's own font engine) ships no types. */
export interface FontkitFont {
  readonly characterSet: number[];
  hasGlyphForCodePoint(codePoint: number): boolean;
}

/**
 * Resolves packages from the project root: the same code runs as CommonJS (nest build) and as
 * ESM (Jest), where neither `require` nor `import.meta` exists in both.
 */
const projectRequire = createRequire(join(process.cwd(), 'package.json'));
type Fontkit = { create(data: Uint8Array): FontkitFont };
/** fontkit loads with the first font opened: a process that never renders a letter never needs it. */
let fontkit: Fontkit | undefined;

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
  let size = 12 + 16 * count;
  const placed = tables.map((table) => {
    const offset = size;
    size += (table.data.length + 3) & ~3; // tables are 4-byte aligned
    return { ...table, offset };
  });
  const sfnt = Buffer.alloc(size);
  woff.copy(sfnt, 0, 4, 8); // flavor: OTTO or 0x00010000
  const power = 2 ** Math.floor(Math.log2(count));
  sfnt.writeUInt16BE(count, 4);
  sfnt.writeUInt16BE(power * 16, 6);
  sfnt.writeUInt16BE(Math.log2(power), 8);
  sfnt.writeUInt16BE(count * 16 - power * 16, 10);
  placed.forEach((table, i) => {
    const record = 12 + i * 16;
    table.tag.copy(sfnt, record);
    sfnt.writeUInt32BE(table.checksum, record + 4);
    sfnt.writeUInt32BE(table.offset, record + 8);
    sfnt.writeUInt32BE(table.data.length, record + 12);
    table.data.copy(sfnt, table.offset);
  });
  return sfnt;
}

function openFont(data: Buffer, file: string): FontkitFont {
  fontkit ??= projectRequire('fontkit') as Fontkit;
  const font = fontkit.create(woffToSfnt(data, file));
  try {
    font.hasGlyphForCodePoint(0x20); // parses the cmap now, so a broken file is named here
  } catch (error) {
    throw new Error(`${file}: unreadable font (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  return font;
}

/** pdfkit font names: the two main weights, or `fallback/<file>`. */
export type FontName = string;

/**
 * The letter fonts, opened once per process on first use and shared by every document (pdfkit
 * subsets per document): some 40 MB that an API process or a worker sending only notices never
 * needs. The index of fallback subsets is built on the first character the main font lacks.
 */
export class LetterFonts {
  private main: { regular: FontkitFont; bold: FontkitFont } | undefined;
  private fallbackIndex: Promise<ReadonlyMap<number, string>> | null = null;
  private loadedIndex: ReadonlyMap<number, string> = new Map();
  private readonly fallbacks = new Map<string, FontkitFont>();

  /** Checks that the files are there, so a broken install still stops the boot; opens nothing yet. */
  constructor(private readonly dir: string) {
    for (const file of [MAIN_FONT, BOLD_FONT]) {
      if (!existsSync(join(dir, file))) throw new Error(`letter font ${join(dir, file)} is missing; reinstall @fontsource/noto-sans-sc`);
    }
  }

  get regular(): FontkitFont {
    return this.opened().regular;
  }

  get bold(): FontkitFont {
    return this.opened().bold;
  }

  private opened(): { regular: FontkitFont; bold: FontkitFont } {
    this.main ??= {
      regular: openFont(readFileSync(join(this.dir, MAIN_FONT)), MAIN_FONT),
      bold: openFont(readFileSync(join(this.dir, BOLD_FONT)), BOLD_FONT),
    };
    return this.main;
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

export function letterFonts(): LetterFonts {
  sharedFonts ??= new LetterFonts(join(dirname(projectRequire.resolve('@fontsource/noto-sans-sc/package.json')), 'files'));
  return sharedFonts;
}

export function codePointLabel(char: string): string {
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
