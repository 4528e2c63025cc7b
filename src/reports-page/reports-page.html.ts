/**
 * The reports page as HTML: headings, each chart's summary and table, and the charts' options as
 * JSON in a `<script type="application/json">`, which the page's own script (served as a file)
 * draws. No script runs inline, so the page works under a policy without 'unsafe-inline'.
 */
import Handlebars from 'handlebars';
import type { ChartTable, PageCharts, ReportChart } from './report-charts';

export const CHART_OPTIONS_ELEMENT = 'report-chart-options';

export interface ReportsPageView extends PageCharts {
  /** Where the page is served; its assets are under `<route>/assets/`. */
  route: string;
  generatedAt: Date;
}

const escape = (text: string) => Handlebars.escapeExpression(text);

/**
 * JSON that cannot end the script element or open a comment inside it: `<`, `>` and `&` as
 * escapes, and the line separators that old parsers took for line ends.
 */
export function embeddedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function table({ caption, head, numeric, rows }: ChartTable): string {
  const align = (column: number) => (numeric[column] ? ' class="number"' : '');
  const body =
    rows.length === 0
      ? `<tr><td colspan="${head.length}">No rows yet.</td></tr>`
      : rows.map((row) => `<tr>${row.map((text, column) => `<td${align(column)}>${escape(text)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table-wrap" tabindex="0" role="region" aria-label="${escape(caption)}"><table>
<caption>${escape(caption)}</caption>
<thead><tr>${head.map((text, column) => `<th scope="col"${align(column)}>${escape(text)}</th>`).join('')}</tr></thead>
<tbody>
${body}
</tbody>
</table></div>`;
}

/** The month picker of the roll rates: a plain GET form, so it works without script too. */
function monthPicker(view: ReportsPageView): string {
  if (view.months.length === 0) return '';
  const options = view.months.map((month) => `<option value="${escape(month)}"${month === view.month ? ' selected' : ''}>${escape(month)}</option>`).join('');
  return `<form class="month" method="get" action="${escape(view.route)}#roll-rates">
<label for="roll-rate-month">Month</label> <select id="roll-rate-month" name="month">${options}</select> <button type="submit">Show</button>
</form>`;
}

function section(chart: ReportChart, view: ReportsPageView): string {
  const { id } = chart;
  // The words "no data yet" need less room than a chart.
  const noData = Array.isArray(chart.option.series) && chart.option.series.length === 0;
  return `<section id="${id}" aria-labelledby="${id}-title">
<h2 id="${id}-title">${escape(chart.title)}</h2>
<p class="explanation">${escape(chart.explanation)}</p>
${id === 'roll-rates' ? monthPicker(view) : ''}
<p id="${id}-summary" class="summary">${escape(chart.summary)}</p>
<div class="chart${noData ? ' no-data' : ''}" id="${id}-chart" data-chart="${id}" role="img" aria-labelledby="${id}-title" aria-describedby="${id}-summary">
<p class="chart-fallback">The chart needs JavaScript; its figures are in the table below.</p>
</div>
<details><summary>The figures as a table</summary>
${table(chart.table)}
</details>
</section>`;
}

export function reportsPageHtml(view: ReportsPageView): string {
  const options = Object.fromEntries(view.charts.map((chart) => [chart.id, chart.option]));
  const generated = view.generatedAt.toISOString();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Collection reports</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escape(view.route)}/assets/reports-page.css">
<script src="${escape(view.route)}/assets/echarts.min.js" defer></script>
<script src="${escape(view.route)}/assets/reports-page.js" defer></script>
</head>
<body>
<header>
<h1>Collection reports</h1>
<p>Figures as of <time datetime="${generated}">${generated.slice(0, 16).replace('T', ' ')} UTC</time>. Each chart's figures are also in a table below it.</p>
<nav aria-label="Charts"><ul>
${view.charts.map((chart) => `<li><a href="#${chart.id}">${escape(chart.title)}</a></li>`).join('\n')}
</ul></nav>
</header>
<main>
${view.charts.map((chart) => section(chart, view)).join('\n')}
</main>
<script type="application/json" id="${CHART_OPTIONS_ELEMENT}">${embeddedJson(options)}</script>
</body>
</html>
`;
}
