import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { refusePage } from '../common/auth/basic-auth';
import { Clock } from '../common/clock';
import { parseOrThrow } from '../common/zod-validation';
import { reportCharts } from './report-charts';
import { reportsPageHtml } from './reports-page.html';
import { ReportsPageSource } from './reports-page-source';

/** No global prefix is set (see bootstrap.ts), so the page's path is its route. */
export const REPORTS_PAGE_ROUTE = '/reports';

/**
 * Resolves packages from the project root: the same code runs as CommonJS (nest build) and as
 * ESM (Jest), where neither `require` nor `import.meta` exists in both.
 */
const projectRequire = createRequire(join(process.cwd(), 'package.json'));

/**
 * The files the page loads, by the name it asks for: ECharts' browser bundle from its npm
 * package (the package's main file sits beside it), and the page's own script and style.
 */
function pageAssets(): ReadonlyMap<string, { file: string; type: string }> {
  const assets = new Map([
    ['echarts.min.js', { file: join(dirname(projectRequire.resolve('echarts')), 'echarts.min.js'), type: 'text/javascript; charset=utf-8' }],
    ['reports-page.js', { file: join(process.cwd(), 'public', 'reports-page.js'), type: 'text/javascript; charset=utf-8' }],
    ['reports-page.css', { file: join(process.cwd(), 'public', 'reports-page.css'), type: 'text/css; charset=utf-8' }],
  ]);
  // A missing file stops the boot, not a page load.
  for (const { file } of assets.values()) if (!existsSync(file)) throw new Error(`the reports page needs ${file}`);
  return assets;
}

/** The month of the roll-rate heatmap; the latest month by default. */
const pageQuery = z.strictObject({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month such as 2026-11')
    .optional(),
});

/** Serves the reports page at REPORTS_PAGE_ROUTE and its assets under `/assets/`, behind the page's auth. */
@Injectable()
export class ReportsPageHandler {
  private readonly assets = pageAssets();

  constructor(
    private readonly source: ReportsPageSource,
    private readonly clock: Clock,
  ) {}

  /** Express middleware: the route's mount path is stripped, so `req.path` is `/` or `/assets/<name>`. */
  readonly handle = async (req: Request, res: Response): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      refusePage(res, 405, 'the reports page is read-only: GET or HEAD');
      return;
    }
    if (req.path === '/') return this.page(req, res);
    const asset = this.assets.get(/^\/assets\/([\w.-]+)$/.exec(req.path)?.[1] ?? '');
    if (!asset) {
      refusePage(res, 404, 'not found');
      return;
    }
    // Revalidated on each load (ETag), so a new release's files are never stale.
    res.sendFile(asset.file, { headers: { 'Content-Type': asset.type, 'Cache-Control': 'private, no-cache' } });
  };

  private async page(req: Request, res: Response): Promise<void> {
    const { month } = parseOrThrow(pageQuery, req.query, 'query');
    const data = await this.source.pageData();
    const html = reportsPageHtml({ route: REPORTS_PAGE_ROUTE, generatedAt: this.clock.now(), ...reportCharts(data, month) });
    // Figures per collector: not for shared caches.
    res.setHeader('Cache-Control', 'no-store');
    res.type('text/html; charset=utf-8').send(html);
  }
}
