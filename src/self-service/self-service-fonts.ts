import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Request, Response } from 'express';

/** Outside the API's routes: fonts are no secret and need no link. */
export const SELF_SERVICE_FONTS_ROUTE = '/self-service/fonts';

/** Resolves the package from the project root, in CommonJS (nest build) and ESM (Jest) alike. */
const projectRequire = createRequire(join(process.cwd(), 'package.json'));
const FONT_FILES = join(dirname(projectRequire.resolve('@fontsource/noto-sans-sc/package.json')), 'files');

/**
 * Noto Sans SC's simplified-Chinese subset in the page's two weights, from the npm package the
 * letters use: a phone or browser without a CJK font still shows a zh-CN debtor their page.
 */
const FONTS: ReadonlyMap<string, string> = new Map([
  ['noto-sans-sc-400.woff2', join(FONT_FILES, 'noto-sans-sc-chinese-simplified-400-normal.woff2')],
  ['noto-sans-sc-700.woff2', join(FONT_FILES, 'noto-sans-sc-chinese-simplified-700-normal.woff2')],
]);

/** Names a device's own CJK font goes by, per weight: where one is installed, nothing is downloaded. */
const LOCAL_NAMES: Record<400 | 700, string[]> = {
  400: ['Noto Sans CJK SC', 'NotoSansCJKsc-Regular', 'Source Han Sans SC', 'PingFangSC-Regular', 'Microsoft YaHei'],
  700: ['Noto Sans CJK SC Bold', 'NotoSansCJKsc-Bold', 'Source Han Sans SC Bold', 'PingFangSC-Semibold', 'Microsoft YaHei Bold'],
};

/**
 * The CSS that loads them, only for the Chinese characters on a page (unicode-range). The page
 * names this family before system-ui: Debian's Chromium otherwise takes system-ui's empty boxes
 * for Chinese characters in any run that mixes them with Latin letters or digits, or is bold.
 */
export const SELF_SERVICE_FONT_FACES = ([400, 700] as const)
  .map(
    (weight) =>
      `@font-face{font-family:"Noto Sans SC";font-weight:${weight};font-display:swap;` +
      `src:${LOCAL_NAMES[weight].map((name) => `local("${name}")`).join(',')},url(${SELF_SERVICE_FONTS_ROUTE}/noto-sans-sc-${weight}.woff2) format("woff2");` +
      `unicode-range:U+3000-303F,U+4E00-9FFF,U+FF00-FFEF}`,
  )
  .join('');

/** Express middleware under SELF_SERVICE_FONTS_ROUTE (mount path stripped): GET or HEAD a font by name. */
export function serveSelfServiceFonts(req: Request, res: Response): void {
  const file = FONTS.get(req.path.replace(/^\//, ''));
  if ((req.method !== 'GET' && req.method !== 'HEAD') || !file) {
    res.status(404).json({ statusCode: 404, error: 'Not Found', message: 'no such font' });
    return;
  }
  // The files change only with the package: a day in any cache is safe.
  res.sendFile(file, { headers: { 'Content-Type': 'font/woff2', 'Cache-Control': 'public, max-age=86400' } });
}
