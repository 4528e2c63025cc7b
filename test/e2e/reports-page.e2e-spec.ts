import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { ReportsPageData } from '../../src/reports/report-rows';
import { NO_FIGURES, reportsPageData } from '../../src/reports-page/reports-page-data.fixture';
import { ReportsPageSource } from '../../src/reports-page/reports-page-source';
import { bearer, clearRedis, KEYS, SHARED_REDIS_DB, startTestApp, type TestApp } from '../support/test-app';

type Role = keyof typeof KEYS;

/** HTTP Basic as the page wants it: the key's name (`<role>-key` in tests) and its secret. */
const basic = (role: Role) => ({ Authorization: `Basic ${Buffer.from(`${role}-key:${KEYS[role]}`).toString('base64')}` });

const CHARTS = ['cure-curve', 'roll-rates', 'funnel', 'qa-scores', 'findings-by-rule'] as const;
/** Where the screenshots go (ignored by git), for people to look at. */
const OUTPUT = join(process.cwd(), 'test-output', 'reports-page');

/** The figures the page is given: the test swaps them between loads. */
class FixtureSource implements ReportsPageSource {
  data: ReportsPageData = reportsPageData();
  failure: Error | undefined;
  pageData(): Promise<ReportsPageData> {
    return this.failure ? Promise.reject(this.failure) : Promise.resolve(this.data);
  }
}

/** What ECharts holds for a chart, and how many of its canvas pixels are painted. */
interface Drawn {
  series: { type: string; points: number }[];
  title: string | null;
  painted: number;
}

/** The little of the browser's globals the checks read (the test compiles without the DOM's types). */
interface PageGlobals {
  document: {
    getElementById(id: string): { querySelector(selector: 'canvas'): PageCanvas | null } | null;
    documentElement: { scrollWidth: number };
  };
  echarts: { getInstanceByDom(element: unknown): { getOption(): { series: { type: string; data?: unknown[] }[]; title?: { text?: string }[] } } | undefined };
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray } } | null;
}

/** Reads the chart of `id` in the page: its ECharts instance's option and its canvas. */
function drawn(page: Page, id: string): Promise<Drawn | null> {
  return page.evaluate((chartId) => {
    const { document, echarts } = globalThis as unknown as PageGlobals;
    const element = document.getElementById(`${chartId}-chart`);
    const chart = element && echarts.getInstanceByDom(element);
    const canvas = element?.querySelector('canvas');
    if (!chart || !canvas) return null;
    const option = chart.getOption();
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let alpha = 3; alpha < pixels.length; alpha += 4) if (pixels[alpha]! > 0) painted += 1;
    return {
      series: option.series.map((series) => ({ type: series.type, points: series.data?.length ?? 0 })),
      title: option.title?.[0]?.text ?? null,
      painted,
    };
  }, id);
}

describe('reports page', () => {
  const source = new FixtureSource();
  let sut: TestApp;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    // Redis databases 1–14 are the older suites'; this one shares database 0 under a prefix of its own.
    sut = await startTestApp('reports_page', SHARED_REDIS_DB, { QUEUE_PREFIX: `test-reports-page-${randomBytes(4).toString('hex')}` }, (builder) =>
      builder.overrideProvider(ReportsPageSource).useValue(source),
    );
    await sut.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(sut.app.getHttpServer().address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    mkdirSync(OUTPUT, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await sut?.close();
    if (sut) await clearRedis(sut.config);
  });

  beforeEach(() => {
    source.data = reportsPageData();
    source.failure = undefined;
  });

  describe('access', () => {
    it.each(['/reports', '/reports/', '/reports/assets/echarts.min.js', '/reports/assets/reports-page.js', '/Reports'])(
      'answers %s without credentials with 401 and a Basic challenge',
      async (path) => {
        const response = await sut.http.get(path).expect(401);
        expect(response.headers['www-authenticate']).toBe('Basic realm="dunning"');
        expect(response.body).toMatchObject({ statusCode: 401 });
      },
    );

    it('refuses a bearer token and a wrong secret: a browser page takes HTTP Basic', async () => {
      await sut.http.get('/reports').set(bearer('finance')).expect(401);
      await sut.http
        .get('/reports')
        .set({ Authorization: `Basic ${Buffer.from(`finance-key:${KEYS.finance}x`).toString('base64')}` })
        .expect(401);
    });

    it.each(['operator', 'collector', 'qa', 'ingest'] as const)('refuses the %s role with 403, its assets too', async (role) => {
      const page = await sut.http.get('/reports').set(basic(role)).expect(403);
      expect(page.body.message).toBe(`role "${role}" may not use the reports page (allowed: auditor, finance, admin)`);
      expect(page.text).not.toContain('Collection reports');
      await sut.http.get('/reports/assets/reports-page.js').set(basic(role)).expect(403);
    });

    it.each(['auditor', 'finance', 'admin'] as const)('serves the %s role the page, without caching it', async (role) => {
      const page = await sut.http.get('/reports').set(basic(role)).expect(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.text).toContain('<h1>Collection reports</h1>');
    });

    it('is read-only, and knows no other paths', async () => {
      const post = await sut.http.post('/reports').set(basic('admin')).expect(405);
      expect(post.headers.allow).toBe('GET, HEAD');
      await sut.http.get('/reports/assets/nope.js').set(basic('admin')).expect(404);
      await sut.http.get('/reports/assets/../package.json').set(basic('admin')).expect(404);
      await sut.http.get('/reports/other').set(basic('admin')).expect(404);
    });
  });

  describe('the page', () => {
    it('allows no inline script: its content policy is the app’s with script-src self only', async () => {
      const page = await sut.http.get('/reports').set(basic('finance')).expect(200);
      const policy = page.headers['content-security-policy'] as string;
      expect(policy).toContain("script-src 'self';");
      expect(policy).toContain("frame-ancestors 'none'");
      // Elsewhere the app's policy is unchanged.
      const docs = await sut.http.get('/docs').set(bearer('finance')).expect(200);
      expect(docs.headers['content-security-policy']).toContain("script-src 'self' 'unsafe-inline'");
    });

    it("serves ECharts from the npm package, and the page's own script and style", async () => {
      const echarts = await sut.http.get('/reports/assets/echarts.min.js').set(basic('auditor')).buffer(true).expect(200);
      expect(echarts.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(echarts.text).toBe(readFileSync(join(process.cwd(), 'node_modules', 'echarts', 'dist', 'echarts.min.js'), 'utf8'));
      const script = await sut.http.get('/reports/assets/reports-page.js').set(basic('auditor')).buffer(true).expect(200);
      expect(script.text).toContain('report-chart-options');
      const style = await sut.http.get('/reports/assets/reports-page.css').set(basic('auditor')).expect(200);
      expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    });

    it('refuses a malformed month and unknown parameters with a 400 naming them', async () => {
      const month = await sut.http.get('/reports?month=2026-13').set(basic('finance')).expect(400);
      expect(month.body.message).toBe('query.month: must be a month such as 2026-11');
      const unknown = await sut.http.get('/reports?mnth=2026-10').set(basic('finance')).expect(400);
      expect(unknown.body.message).toMatch(/^query: Unrecognized key: "mnth"/);
      const twice = await sut.http.get('/reports?month=2026-10&month=2026-09').set(basic('finance')).expect(400);
      expect(twice.body.message).toMatch(/^query\.month: /);
    });

    it.each([
      ['an empty month', 'month='],
      ['a month list', 'month[]=2026-10'],
      ['a month object', 'month[a]=1'],
      ['a NUL', 'month=%00'],
      ['a __proto__ key', '__proto__=1'],
      ['a 5000-character month', `month=${'9'.repeat(5000)}`],
      ['broken percent-encoding', 'month=%E0%A4%A'],
    ])('answers %s with a 400 in the error shape, never a 500', async (_label, query) => {
      const page = await sut.http.get(`/reports?${query}`).set(basic('finance')).expect(400);
      expect(page.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/^query/) });
      expect(page.body.message.length).toBeLessThan(600);
    });

    it('answers 503 in the error shape when the figures cannot be gathered', async () => {
      source.failure = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      const page = await sut.http.get('/reports').set(basic('finance')).expect(503);
      expect(page.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'a dependency (PostgreSQL or Redis) is unavailable; retry later' });
    });

    it('shows the roll rates of the month asked for', async () => {
      const page = await sut.http.get('/reports?month=2026-09').set(basic('finance')).expect(200);
      expect(page.text).toContain('<option value="2026-09" selected>');
      expect(page.text).toContain('<caption>Roll rates for 2026-09</caption>');
    });
  });

  describe('in Chromium', () => {
    /** Opens the page as a finance key at the given viewport, collecting every error the page reports. */
    async function open(viewport: { width: number; height: number }, path = '/reports'): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
      const context = await browser.newContext({ viewport, httpCredentials: { username: 'finance-key', password: KEYS.finance } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(error.message));
      const response = await page.goto(`${baseUrl}${path}`);
      expect(response?.status()).toBe(200);
      return { context, page, errors };
    }

    /** Waits until the chart has been drawn, then reads it. */
    async function chart(page: Page, id: string): Promise<Drawn> {
      await page.waitForFunction(
        (chartId) => ((globalThis as unknown as PageGlobals).document.getElementById(`${chartId}-chart`)?.querySelector('canvas')?.width ?? 0) > 0,
        id,
      );
      const found = await drawn(page, id);
      if (!found) throw new Error(`no ECharts instance for ${id}`);
      return found;
    }

    it('draws every chart with its data, at desktop and at phone width, with no error under the content policy', async () => {
      for (const [name, viewport] of [
        ['desktop', { width: 1280, height: 900 }],
        ['phone', { width: 390, height: 844 }],
      ] as const) {
        const { context, page, errors } = await open(viewport);
        for (const id of CHARTS) {
          const found = await chart(page, id);
          expect({ id, title: found.title }).toEqual({ id, title: null });
          expect(found.series.length).toBeGreaterThan(0);
          for (const series of found.series) expect({ id, series: series.type, points: series.points > 0 }).toEqual({ id, series: series.type, points: true });
          expect(found.painted).toBeGreaterThan(0);
        }
        // Nothing wider than the screen: the page scrolls down, not sideways.
        expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
        await page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });
        expect(errors).toEqual([]);
        await context.close();
      }
    });

    it('has the headings, summaries and tables that stand in for the pictures', async () => {
      const { context, page } = await open({ width: 1280, height: 900 });
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Collection reports');
      expect(await page.getByRole('heading', { level: 2 }).allTextContents()).toEqual([
        'Cure curve by days since opening',
        'Roll rates between days-past-due buckets',
        'From contact to payment',
        'QA score per collector over time',
        'Findings by rule',
      ]);
      const funnel = page.getByRole('img', { name: 'From contact to payment' });
      expect(await funnel.getAttribute('aria-describedby')).toBe('funnel-summary');
      expect(await page.locator('#funnel-summary').textContent()).toContain('contacted 640 (64 %)');
      await page.getByText('The figures as a table').nth(2).click();
      expect(await page.getByRole('table', { name: 'Cases by stage' }).getByRole('row').count()).toBe(6);
      await context.close();
    });

    it("shows a chart's tooltip on hover, styled under the content policy", async () => {
      const { context, page, errors } = await open({ width: 1280, height: 900 });
      await chart(page, 'cure-curve');
      const box = (await page.locator('#cure-curve-chart').boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      // ECharts writes the tooltip as markup with inline styles beside its canvas.
      const tooltip = page.locator('#cure-curve-chart > div').filter({ hasText: 'consumer-default' });
      await tooltip.waitFor();
      expect(await tooltip.textContent()).toContain('commercial-firm');
      expect(errors).toEqual([]);
      await context.close();
    });

    it('switches the heatmap to the month picked', async () => {
      const { context, page } = await open({ width: 1280, height: 900 });
      await page.getByLabel('Month').selectOption('2026-09');
      await page.getByRole('button', { name: 'Show' }).click();
      await page.waitForURL(/month=2026-09/);
      const heatmap = await chart(page, 'roll-rates');
      expect(heatmap.series).toEqual([{ type: 'heatmap', points: 20 }]);
      await context.close();
    });

    it('says "no data yet" on every chart when there are no figures', async () => {
      source.data = NO_FIGURES;
      const { context, page, errors } = await open({ width: 1280, height: 900 });
      for (const id of CHARTS) {
        const found = await chart(page, id);
        expect({ id, title: found.title, series: found.series }).toEqual({ id, title: 'No data yet', series: [] });
        // The words are drawn: the chart is not a blank box.
        expect(found.painted).toBeGreaterThan(0);
      }
      await page.screenshot({ path: join(OUTPUT, 'no-data.png'), fullPage: true });
      expect(errors).toEqual([]);
      await context.close();
    });

    it('refuses a role without the page in the browser too', async () => {
      const context = await browser.newContext({ httpCredentials: { username: 'operator-key', password: KEYS.operator } });
      const response = await (await context.newPage()).goto(`${baseUrl}/reports`);
      expect(response?.status()).toBe(403);
      await context.close();
    });
  });
});
