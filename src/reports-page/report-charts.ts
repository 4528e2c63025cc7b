/**
 * The reports page's charts as plain data: each chart's ECharts option, its one-paragraph summary
 * and its figures as a table, built from the report rows without I/O. The options travel to the
 * browser as JSON, so they hold no functions: labels are string templates or written out here.
 */
import type { EChartsOption } from 'echarts';
import {
  FUNNEL_STAGES,
  type CureCurvePoint,
  type FindingsByRuleRow,
  type FunnelStage,
  type FunnelStageName,
  type QaScoreRow,
  type ReportsPageData,
  type RollRateCell,
} from '../reports/report-rows';

export const NO_DATA_YET = 'No data yet';

export type ChartId = 'cure-curve' | 'roll-rates' | 'funnel' | 'qa-scores' | 'findings-by-rule';

export interface ChartTable {
  caption: string;
  head: string[];
  /** Which columns hold numbers (aligned right). */
  numeric: boolean[];
  rows: string[][];
}

export interface ReportChart {
  id: ChartId;
  title: string;
  /** What the chart shows, in a sentence. */
  explanation: string;
  /** Its figures in words: the text alternative of the picture. */
  summary: string;
  option: EChartsOption;
  table: ChartTable;
}

const counts = new Intl.NumberFormat('en');
const oneDecimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });

/** A rate (a fraction) as a percentage with at most one decimal, for axes and labels; null stays a gap. */
export const asPercent = (rate: number | null): number | null => (rate === null ? null : Math.round(rate * 1000) / 10);
const percentText = (rate: number | null, none = '–') => (rate === null ? none : `${oneDecimal.format(asPercent(rate)!)} %`);
const scoreText = (score: number | null) => (score === null ? '–' : oneDecimal.format(score));
const unique = <T>(values: T[]): T[] => [...new Set(values)];

/** What every chart shares: no animation (the figures are read, not watched), room for labels. */
const BASE: EChartsOption = {
  animation: false,
  textStyle: { fontFamily: 'system-ui, sans-serif' },
  grid: { left: 8, right: 24, top: 56, bottom: 8 },
};

/** The chart drawn when there is nothing to draw: the words on the canvas, never an empty frame. */
export function noDataOption(text: string = NO_DATA_YET): EChartsOption {
  return {
    animation: false,
    title: { text, left: 'center', top: 'middle', textStyle: { fontSize: 18, fontWeight: 'normal', color: '#555' } },
    series: [],
  };
}

/** A line per policy: the share of its cases cured by each day since opening. */
export function cureCurveOption(points: CureCurvePoint[]): EChartsOption {
  const drawn = points.filter((point) => point.cureRate !== null);
  if (drawn.length === 0) return noDataOption();
  return {
    ...BASE,
    legend: { type: 'scroll', top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'value', name: 'Days since opening', nameLocation: 'middle', nameGap: 28, min: 0, max: 'dataMax' },
    yAxis: { type: 'value', name: 'Cured (%)', min: 0, max: 100 },
    series: unique(drawn.map((point) => point.policy)).map((policy) => ({
      type: 'line',
      name: policy,
      data: drawn
        .filter((point) => point.policy === policy)
        .sort((a, b) => a.day - b.day)
        .map((point) => [point.day, asPercent(point.cureRate)]),
    })),
  };
}

/** The months with roll rates, oldest first. */
const rollRateMonths = (cells: RollRateCell[]): string[] => unique(cells.map((cell) => cell.month)).sort();

/** What the roll rates say when a month has none to draw. */
const noRollRates = (cells: RollRateCell[], month: string | undefined) => (month && cells.length > 0 ? `No roll rates for ${month}` : NO_DATA_YET);

/**
 * A heatmap of one month: from-bucket (rows) × to-bucket (columns), each cell the percentage. The
 * buckets keep the order the report gives them in.
 */
export function rollRateOption(cells: RollRateCell[], month: string | undefined): EChartsOption {
  const inMonth = cells.filter((cell) => cell.month === month);
  const drawn = inMonth.filter((cell) => cell.rate !== null);
  if (drawn.length === 0) return noDataOption(noRollRates(cells, month));
  // Buckets without cases keep their row, empty.
  const from = unique(inMonth.map((cell) => cell.fromBucket));
  const to = unique(inMonth.map((cell) => cell.toBucket));
  return {
    ...BASE,
    // The colour scale above the grid, clear of the axis names.
    grid: { ...BASE.grid, top: 48 },
    tooltip: { position: 'top' },
    xAxis: { type: 'category', data: to, name: 'A month later', nameLocation: 'middle', nameGap: 28, splitArea: { show: true } },
    yAxis: { type: 'category', data: from, name: `At the end of ${month}`, nameLocation: 'middle', nameGap: 56, inverse: true, splitArea: { show: true } },
    visualMap: {
      min: 0,
      max: 100,
      orient: 'horizontal',
      left: 'center',
      top: 0,
      itemHeight: 120,
      text: ['100 %', '0 %'],
      inRange: { color: ['#e8f1fb', '#c0392b'] },
    },
    series: [
      {
        type: 'heatmap',
        name: 'Roll rate (%)',
        data: drawn.map((cell) => [to.indexOf(cell.toBucket), from.indexOf(cell.fromBucket), asPercent(cell.rate)]),
        label: { show: true, formatter: '{@[2]} %' },
      },
    ],
  };
}

const STAGE_LABELS = {
  cases: 'Cases',
  contacted: 'Contacted',
  promised: 'Promised',
  kept: 'Kept the promise',
  paid: 'Paid',
} satisfies Record<FunnelStageName, string>;

const FUNNEL_COLORS = ['#dbe9f6', '#bad6eb', '#9ac8e0', '#7db8da', '#62a8d3'];

/** The stages in funnel order, each with its share of the first stage (all cases). */
function funnelStages(stages: FunnelStage[]): { name: string; cases: number; share: number | null }[] {
  const byStage = new Map(stages.map((stage) => [stage.stage, stage.cases]));
  const base = byStage.get(FUNNEL_STAGES[0]) ?? 0;
  return FUNNEL_STAGES.filter((stage) => byStage.has(stage)).map((stage) => {
    const cases = byStage.get(stage)!;
    return { name: STAGE_LABELS[stage], cases, share: base > 0 ? cases / base : null };
  });
}

const nobodyInFunnel = (shown: ReturnType<typeof funnelStages>) => shown.every((stage) => stage.cases === 0);

/** The funnel cases → contacted → promised → kept → paid, in that order whatever the sizes. */
export function funnelOption(stages: FunnelStage[]): EChartsOption {
  const shown = funnelStages(stages);
  if (nobodyInFunnel(shown)) return noDataOption();
  return {
    ...BASE,
    tooltip: { trigger: 'item', formatter: '{b}: {c}' },
    series: [
      {
        type: 'funnel',
        name: 'Cases',
        sort: 'none',
        min: 0,
        max: Math.max(...shown.map((stage) => stage.cases)),
        minSize: '8%',
        left: '5%',
        width: '90%',
        top: 8,
        bottom: 8,
        gap: 2,
        // Light stages under dark words: a label wider than its stage still reads on the white beside it.
        label: { position: 'inside', color: '#1f2328' },
        itemStyle: { borderColor: '#4a90c2', borderWidth: 1 },
        data: shown.map((stage, index) => ({
          name: stage.name,
          value: stage.cases,
          itemStyle: { color: FUNNEL_COLORS[index % FUNNEL_COLORS.length] },
          label: { formatter: `${stage.name}: ${counts.format(stage.cases)}${stage.share === null ? '' : ` (${percentText(stage.share)})`}` },
        })),
      },
    ],
  };
}

/** A collector's days, in date order, and the score over all of them weighted by the touches scored. */
function collectorScores(rows: QaScoreRow[]) {
  const days = unique(rows.map((row) => row.day)).sort();
  const collectors = unique(rows.map((row) => row.key)).sort();
  return {
    days,
    collectors: collectors.map((collector) => {
      const own = rows.filter((row) => row.key === collector && row.averageScore !== null);
      const scored = own.reduce((sum, row) => sum + row.scored, 0);
      const weighted = own.reduce((sum, row) => sum + row.averageScore! * row.scored, 0);
      return { collector, own, scored, average: scored > 0 ? weighted / scored : null };
    }),
  };
}

/** A line per collector: the average QA score of their touches, day by day. */
export function qaScoreOption(rows: QaScoreRow[]): EChartsOption {
  const scored = rows.filter((row) => row.averageScore !== null);
  if (scored.length === 0) return noDataOption();
  const { days, collectors } = collectorScores(scored);
  return {
    ...BASE,
    legend: { type: 'scroll', top: 0 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: days, boundaryGap: false },
    yAxis: { type: 'value', name: 'Average score', min: 0, max: 100 },
    series: collectors.map(({ collector, own }) => ({
      type: 'line',
      name: collector,
      // A day without scored touches is a gap the line bridges: the score did not drop to zero.
      connectNulls: true,
      data: days.map((day) => {
        const score = own.find((row) => row.day === day)?.averageScore;
        return score == null ? null : Math.round(score * 10) / 10;
      }),
    })),
  };
}

const FINDING_STATUSES = [
  { key: 'open', label: 'Open', color: '#5470c6' },
  { key: 'appealed', label: 'Appealed', color: '#e6a23c' },
  { key: 'confirmed', label: 'Confirmed', color: '#c0392b' },
  { key: 'overturned', label: 'Overturned', color: '#6b8e23' },
] as const satisfies readonly { key: keyof FindingsByRuleRow; label: string; color: string }[];

const confirmedText = (row: FindingsByRuleRow) => (row.confirmedShare === null ? 'not reviewed yet' : `${percentText(row.confirmedShare)} confirmed`);

/** Rules with findings, most findings first. */
const rulesWithFindings = (rows: FindingsByRuleRow[]) =>
  rows.filter((row) => row.findings > 0).sort((a, b) => b.findings - a.findings || a.ruleId.localeCompare(b.ruleId));

/** Stacked bars per rule by review status; each rule's label says the share reviewers confirmed (its calibration). */
export function findingsByRuleOption(rows: FindingsByRuleRow[]): EChartsOption {
  const rules = rulesWithFindings(rows);
  if (rules.length === 0) return noDataOption();
  return {
    ...BASE,
    legend: { top: 0 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'value', name: 'Findings', nameLocation: 'middle', nameGap: 28, minInterval: 1 },
    yAxis: { type: 'category', inverse: true, axisLabel: { lineHeight: 16 }, data: rules.map((row) => `${row.ruleId}\n${confirmedText(row)}`) },
    series: FINDING_STATUSES.map((status) => ({
      type: 'bar',
      name: status.label,
      stack: 'findings',
      itemStyle: { color: status.color },
      data: rules.map((row) => row[status.key]),
    })),
  };
}

function cureCurveChart(points: CureCurvePoint[]): ReportChart {
  const last = unique(points.map((point) => point.policy)).flatMap((policy) => {
    const own = points.filter((point) => point.policy === policy && point.cureRate !== null).sort((a, b) => b.day - a.day);
    return own[0] ? [own[0]] : [];
  });
  return {
    id: 'cure-curve',
    title: 'Cure curve by days since opening',
    explanation: 'For each policy, the share of its cases paid in full within a number of days of opening.',
    summary:
      last.length === 0
        ? `${NO_DATA_YET}: no case has been open long enough to be counted.`
        : last.map((point) => `${point.policy}: ${percentText(point.cureRate)} of ${counts.format(point.cases)} cases cured by day ${point.day}.`).join(' '),
    option: cureCurveOption(points),
    table: {
      caption: 'Cure curve by policy and day',
      head: ['Policy', 'Day', 'Cases', 'Cured', 'Cure rate'],
      numeric: [false, true, true, true, true],
      rows: [...points]
        .sort((a, b) => a.policy.localeCompare(b.policy) || a.day - b.day)
        .map((point) => [point.policy, String(point.day), counts.format(point.cases), counts.format(point.cured), percentText(point.cureRate)]),
    },
  };
}

function rollRatesChart(cells: RollRateCell[], month: string | undefined): ReportChart {
  const inMonth = cells.filter((cell) => cell.month === month);
  // Each from-bucket's most likely bucket a month later.
  const likeliest = unique(inMonth.map((cell) => cell.fromBucket)).flatMap((from) => {
    const top = inMonth.filter((cell) => cell.fromBucket === from && cell.rate !== null).sort((a, b) => b.rate! - a.rate!)[0];
    return top ? [`${top.fromBucket} to ${top.toBucket} (${percentText(top.rate)})`] : [];
  });
  return {
    id: 'roll-rates',
    title: 'Roll rates between days-past-due buckets',
    explanation: 'Of the cases in a bucket at the end of the month (rows), the share in each bucket at the end of the next month (columns).',
    summary:
      likeliest.length === 0
        ? `${noRollRates(cells, month)}.`
        : `Where most cases of each bucket at the end of ${month} were a month later: ${likeliest.join('; ')}.`,
    option: rollRateOption(cells, month),
    table: {
      caption: `Roll rates for ${month ?? 'no month yet'}`,
      head: ['From bucket', 'To bucket', 'Cases', 'Rate'],
      numeric: [false, false, true, true],
      rows: inMonth.map((cell) => [cell.fromBucket, cell.toBucket, counts.format(cell.cases), percentText(cell.rate)]),
    },
  };
}

function funnelChart(stages: FunnelStage[]): ReportChart {
  const shown = funnelStages(stages);
  const [first, ...rest] = shown;
  return {
    id: 'funnel',
    title: 'From contact to payment',
    explanation: 'How many cases reached each stage: contacted by a person (a call, a visit…; not a message), promised to pay, kept the promise, paid.',
    summary:
      !first || nobodyInFunnel(shown)
        ? `${NO_DATA_YET}: no cases in the period.`
        : `Of ${counts.format(first.cases)} ${first.name.toLowerCase()}: ${rest
            .map((stage) => `${stage.name.toLowerCase()} ${counts.format(stage.cases)} (${percentText(stage.share)})`)
            .join(', ')}.`,
    option: funnelOption(stages),
    table: {
      caption: 'Cases by stage',
      head: ['Stage', 'Cases', 'Share of all cases'],
      numeric: [false, true, true],
      rows: shown.map((stage) => [stage.name, counts.format(stage.cases), percentText(stage.share)]),
    },
  };
}

function qaScoresChart(rows: QaScoreRow[]): ReportChart {
  const { collectors } = collectorScores(rows);
  const scored = collectors.filter((entry) => entry.average !== null);
  return {
    id: 'qa-scores',
    title: 'QA score per collector over time',
    explanation: 'The average quality score (0–100) of the touches each collector made, day by day.',
    summary:
      scored.length === 0
        ? `${NO_DATA_YET}: no touch has been scored.`
        : `Average over the period: ${scored.map((entry) => `${entry.collector} ${scoreText(entry.average)} (${counts.format(entry.scored)} scored)`).join(', ')}.`,
    option: qaScoreOption(rows),
    table: {
      caption: 'QA scores by collector and day',
      head: ['Collector', 'Day', 'Scored', 'Average score', 'Failed', 'Autofailed'],
      numeric: [false, false, true, true, true, true],
      rows: [...rows]
        .sort((a, b) => a.key.localeCompare(b.key) || a.day.localeCompare(b.day))
        .map((row) => [row.key, row.day, counts.format(row.scored), scoreText(row.averageScore), counts.format(row.failed), counts.format(row.autofailed)]),
    },
  };
}

function findingsChart(rows: FindingsByRuleRow[]): ReportChart {
  const rules = rulesWithFindings(rows);
  const total = rules.reduce((sum, row) => sum + row.findings, 0);
  return {
    id: 'findings-by-rule',
    title: 'Findings by rule',
    explanation: 'Findings of each QA rule by review status; the share reviewers confirmed shows how well the rule is calibrated.',
    summary:
      rules.length === 0
        ? `${NO_DATA_YET}: no findings.`
        : `${counts.format(total)} findings of ${rules.length} ${rules.length === 1 ? 'rule' : 'rules'}: ${rules
            .map((row) => `${row.ruleId} ${counts.format(row.findings)} (${confirmedText(row)})`)
            .join(', ')}.`,
    option: findingsByRuleOption(rows),
    table: {
      caption: 'Findings by rule and status',
      head: ['Rule', 'Findings', ...FINDING_STATUSES.map((status) => status.label), 'Confirmed share'],
      numeric: [false, true, true, true, true, true, true],
      rows: rules.map((row) => [
        row.ruleId,
        counts.format(row.findings),
        ...FINDING_STATUSES.map((status) => counts.format(row[status.key])),
        percentText(row.confirmedShare),
      ]),
    },
  };
}

/** The page's charts in page order, with the months of the roll rates and the one they show. */
export interface PageCharts {
  charts: ReportChart[];
  months: string[];
  month: string | undefined;
}

/** Every chart of the page; the roll rates for the month asked for, or the latest month. */
export function reportCharts(data: ReportsPageData, askedMonth?: string): PageCharts {
  const months = rollRateMonths(data.rollRates);
  const month = askedMonth ?? months.at(-1);
  return {
    charts: [
      cureCurveChart(data.cureCurve),
      rollRatesChart(data.rollRates, month),
      funnelChart(data.funnel),
      qaScoresChart(data.qaScoresByCollector),
      findingsChart(data.findingsByRule),
    ],
    months,
    month,
  };
}
