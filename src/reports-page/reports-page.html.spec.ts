import { reportCharts } from './report-charts';
import { CHART_OPTIONS_ELEMENT, embeddedJson, reportsPageHtml, type ReportsPageView } from './reports-page.html';
import { NO_FIGURES, reportsPageData } from './reports-page-data.fixture';

const view = (data = reportsPageData(), month?: string): ReportsPageView => ({
  route: '/reports',
  generatedAt: new Date('2026-12-02T06:30:00Z'),
  ...reportCharts(data, month),
});

const embeddedOptions = (html: string) => {
  const json = new RegExp(`<script type="application/json" id="${CHART_OPTIONS_ELEMENT}">(.*?)</script>`, 's').exec(html)?.[1];
  return JSON.parse(json!) as Record<string, unknown>;
};

describe('embeddedJson', () => {
  it('cannot end its script element or open a comment, and reads back as the same value', () => {
    const value = { rule: '</script><script>alert(1)</script>', note: '<!-- & -->', separators: '\u2028\u2029' };
    const text = embeddedJson(value);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('the reports page', () => {
  it('runs no inline script: every script is a file of its own or JSON data', () => {
    const html = reportsPageHtml(view());
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((match) => match[1]!.trim());
    expect(scripts).toEqual([
      'src="/reports/assets/echarts.min.js" defer',
      'src="/reports/assets/reports-page.js" defer',
      `type="application/json" id="${CHART_OPTIONS_ELEMENT}"`,
    ]);
    expect(html).not.toMatch(/\son[a-z]+=/i);
  });

  it("embeds every chart's option under its id, for the chart element of the same id", () => {
    const { charts } = reportCharts(reportsPageData());
    const html = reportsPageHtml(view());
    expect(embeddedOptions(html)).toEqual(Object.fromEntries(charts.map((chart) => [chart.id, chart.option])));
    for (const chart of charts) expect(html).toContain(`id="${chart.id}-chart" data-chart="${chart.id}" role="img"`);
  });

  it('gives each chart a heading, its summary as the description of the picture, and a table', () => {
    const html = reportsPageHtml(view());
    expect(html).toContain('<h1>Collection reports</h1>');
    for (const chart of reportCharts(reportsPageData()).charts) {
      expect(html).toContain(`<h2 id="${chart.id}-title">`);
      expect(html).toContain(`aria-labelledby="${chart.id}-title" aria-describedby="${chart.id}-summary"`);
      expect(html).toContain(`<caption>${chart.table.caption}</caption>`);
    }
    expect(html).toContain('<th scope="col" class="number">Cases</th>');
  });

  it('escapes what the figures say', () => {
    const data = reportsPageData();
    data.findingsByRule[0]!.ruleId = '<img src=x>';
    const html = reportsPageHtml(view(data));
    expect(html).not.toContain('<img src=x>');
    expect(html).toContain('&lt;img src&#x3D;x&gt;');
    expect(embeddedOptions(html)).toMatchObject({ 'findings-by-rule': { yAxis: { data: expect.arrayContaining([expect.stringContaining('<img src=x>')]) } } });
  });

  it('offers the months of the roll rates, the one shown selected', () => {
    const html = reportsPageHtml(view(reportsPageData(), '2026-09'));
    expect(html).toContain('<form class="month" method="get" action="/reports#roll-rates">');
    expect(html).toContain('<option value="2026-09" selected>2026-09</option><option value="2026-10">2026-10</option>');
  });

  it('without figures has no month picker, and marks each chart as saying "no data yet"', () => {
    const html = reportsPageHtml(view(NO_FIGURES));
    expect(html).not.toContain('<form');
    expect(html.match(/class="chart no-data"/g)).toHaveLength(5);
    expect(html.match(/No rows yet\./g)).toHaveLength(5);
  });

  it('says when its figures were gathered', () => {
    expect(reportsPageHtml(view())).toContain('<time datetime="2026-12-02T06:30:00.000Z">2026-12-02 06:30 UTC</time>');
  });
});
