import type { EChartsOption } from 'echarts';
import {
  asPercent,
  cureCurveOption,
  findingsByRuleOption,
  funnelOption,
  NO_DATA_YET,
  noDataOption,
  qaScoreOption,
  reportCharts,
  rollRateOption,
} from './report-charts';
import { NO_FIGURES, reportsPageData } from './reports-page-data.fixture';

type Series = { type: string; name: string; data: unknown[]; stack?: string; sort?: string };
const seriesOf = (option: EChartsOption) => option.series as Series[];
const titleOf = (option: EChartsOption) => (option.title as { text: string }).text;

describe('the chart options', () => {
  const data = reportsPageData();

  it('are plain JSON: they reach the browser embedded in the page', () => {
    for (const chart of [...reportCharts(data).charts, ...reportCharts(NO_FIGURES).charts]) {
      expect(JSON.parse(JSON.stringify(chart.option))).toEqual(chart.option);
    }
  });

  it.each([
    ['cure curve', () => cureCurveOption([])],
    ['roll rates', () => rollRateOption([], undefined)],
    ['funnel', () => funnelOption([])],
    ['QA scores', () => qaScoreOption([])],
    ['findings by rule', () => findingsByRuleOption([])],
  ])('draw "no data yet" for an empty %s, not an empty frame', (_name, build) => {
    const option = build();
    expect(option).toEqual(noDataOption());
    expect(titleOf(option)).toBe(NO_DATA_YET);
    expect(seriesOf(option)).toEqual([]);
  });

  it('draw "no data yet" when every figure is a gap or zero', () => {
    expect(cureCurveOption([{ policy: 'p', day: 0, cases: 0, cured: 0, cureRate: null }])).toEqual(noDataOption());
    expect(funnelOption([{ stage: 'cases', cases: 0 }])).toEqual(noDataOption());
    expect(qaScoreOption([{ key: 'x', day: '2026-11-01', scored: 0, averageScore: null, failed: 0, autofailed: 0 }])).toEqual(noDataOption());
    const unreviewed = { ruleId: 'r', findings: 0, open: 0, appealed: 0, confirmed: 0, overturned: 0, confirmedShare: null };
    expect(findingsByRuleOption([unreviewed])).toEqual(noDataOption());
  });

  it('turn rates into percentages with one decimal, and keep gaps', () => {
    expect(asPercent(0.41666)).toBe(41.7);
    expect(asPercent(1)).toBe(100);
    expect(asPercent(null)).toBeNull();
  });

  describe('cure curve', () => {
    it('has a line per policy, its points in day order as [day, percent cured]', () => {
      const shuffled = [
        { policy: 'b', day: 30, cases: 10, cured: 5, cureRate: 0.5 },
        { policy: 'a', day: 10, cases: 4, cured: 1, cureRate: 0.25 },
        { policy: 'b', day: 0, cases: 10, cured: 0, cureRate: 0 },
        { policy: 'b', day: 10, cases: 10, cured: 2, cureRate: 0.2 },
      ];
      expect(seriesOf(cureCurveOption(shuffled))).toEqual([
        expect.objectContaining({
          type: 'line',
          name: 'b',
          data: [
            [0, 0],
            [10, 20],
            [30, 50],
          ],
        }),
        expect.objectContaining({ type: 'line', name: 'a', data: [[10, 25]] }),
      ]);
    });

    it('draws both policies of the portfolio over 90 days', () => {
      const series = seriesOf(cureCurveOption(data.cureCurve));
      expect(series.map((line) => line.name)).toEqual(['consumer-default', 'commercial-firm']);
      expect(series.every((line) => line.data.length === 19 && (line.data.at(-1) as number[])[0] === 90)).toBe(true);
    });
  });

  describe('roll rates', () => {
    it('know their months, oldest first, and show the latest unless one is asked for', () => {
      const reversed = { ...data, rollRates: [...data.rollRates].reverse() };
      expect(reportCharts(reversed)).toMatchObject({ months: ['2026-09', '2026-10'], month: '2026-10' });
      expect(reportCharts(reversed, '2026-09')).toMatchObject({ months: ['2026-09', '2026-10'], month: '2026-09' });
    });

    it("place each cell at [to-bucket, from-bucket] with its percentage, for the month's cells only", () => {
      const option = rollRateOption(data.rollRates, '2026-09');
      expect((option.yAxis as { data: string[] }).data).toEqual(['1-30', '31-60', '61-90', '91+']);
      expect((option.xAxis as { data: string[] }).data).toEqual(['cured', '1-30', '31-60', '61-90', '91+']);
      const [heatmap] = seriesOf(option);
      expect(heatmap).toMatchObject({ type: 'heatmap' });
      // 31-60 → 61-90 in September: 100 of 220 cases.
      expect(heatmap!.data).toContainEqual([3, 1, 45.5]);
      expect(heatmap!.data).toHaveLength(20);
    });

    it('keep the row of a bucket without cases, with no cells', () => {
      const option = rollRateOption(data.rollRates, '2026-10');
      expect((option.yAxis as { data: string[] }).data).toContain('91+');
      expect(seriesOf(option)[0]!.data).toHaveLength(15);
    });

    it('say so for a month without roll rates', () => {
      expect(titleOf(rollRateOption(data.rollRates, '2025-01'))).toBe('No roll rates for 2025-01');
    });

    it('name the month shown on the axis and in the table', () => {
      const latest = reportCharts(data).charts.find((chart) => chart.id === 'roll-rates')!;
      expect((latest.option.yAxis as { name: string }).name).toBe('At the end of 2026-10');
      expect(latest.table.caption).toBe('Roll rates for 2026-10');
      const asked = reportCharts(data, '2026-09').charts.find((chart) => chart.id === 'roll-rates')!;
      expect(asked.table.rows).toContainEqual(['31-60', '61-90', '100', '45.5 %']);
    });
  });

  describe('funnel', () => {
    it('keeps the stage order whatever the order of the rows, each labelled with its share of all cases', () => {
      const [funnel] = seriesOf(funnelOption([...data.funnel].reverse()));
      expect(funnel).toMatchObject({ type: 'funnel', sort: 'none' });
      const stages = funnel!.data as { name: string; value: number; label: { formatter: string } }[];
      expect(stages.map((stage) => [stage.name, stage.value])).toEqual([
        ['Cases', 1000],
        ['Contacted', 640],
        ['Promised', 310],
        ['Kept the promise', 205],
        ['Paid', 182],
      ]);
      expect(stages[1]!.label.formatter).toBe('Contacted: 640 (64 %)');
    });
  });

  describe('QA scores', () => {
    it('have a line per collector over every day, a day off being a gap', () => {
      const option = qaScoreOption(data.qaScoresByCollector);
      const days = (option.xAxis as { data: string[] }).data;
      expect(days).toHaveLength(14);
      expect([...days].sort()).toEqual(days);
      const series = seriesOf(option);
      expect(series.map((line) => line.name)).toEqual(['li.wei', 'maria.k', 'tom.b']);
      for (const line of series) {
        expect(line.data).toHaveLength(14);
        expect(line.data.filter((score) => score === null).length).toBeGreaterThan(0);
      }
    });

    it('summarise each collector by the average weighted by the touches scored', () => {
      const rows = [
        { key: 'a', day: '2026-11-01', scored: 1, averageScore: 50, failed: 1, autofailed: 0 },
        { key: 'a', day: '2026-11-02', scored: 3, averageScore: 90, failed: 0, autofailed: 0 },
      ];
      const chart = reportCharts({ ...NO_FIGURES, qaScoresByCollector: rows }).charts.find((entry) => entry.id === 'qa-scores')!;
      expect(chart.summary).toBe('Average over the period: a 80 (4 scored).');
    });
  });

  describe('findings by rule', () => {
    it('stack the statuses per rule, most findings first, the confirmed share in the rule label', () => {
      const option = findingsByRuleOption(data.findingsByRule);
      expect((option.yAxis as { data: string[] }).data).toEqual([
        'contact-hours\n82.4 % confirmed',
        'promise-follow-up\n42.9 % confirmed',
        'forbidden-wording\n90 % confirmed',
        'disclosure-opt-out\nnot reviewed yet',
        'third-party-disclosure\n66.7 % confirmed',
      ]);
      const series = seriesOf(option);
      expect(series.map((bar) => [bar.name, bar.stack])).toEqual([
        ['Open', 'findings'],
        ['Appealed', 'findings'],
        ['Confirmed', 'findings'],
        ['Overturned', 'findings'],
      ]);
      expect(series.find((bar) => bar.name === 'Confirmed')!.data).toEqual([14, 6, 9, 0, 4]);
    });
  });
});

describe('the charts of the page', () => {
  it('come in page order, each with a summary and its figures as a table', () => {
    const { charts } = reportCharts(reportsPageData());
    expect(charts.map((chart) => chart.id)).toEqual(['cure-curve', 'roll-rates', 'funnel', 'qa-scores', 'findings-by-rule']);
    for (const chart of charts) {
      expect(chart.table.rows.length).toBeGreaterThan(0);
      expect(chart.table.rows.every((row) => row.length === chart.table.head.length && chart.table.numeric.length === row.length)).toBe(true);
    }
    const summaries = Object.fromEntries(charts.map((chart) => [chart.id, chart.summary]));
    expect(summaries).toEqual({
      'cure-curve': 'consumer-default: 55.7 % of 1,200 cases cured by day 90. commercial-firm: 70.6 % of 340 cases cured by day 90.',
      'roll-rates':
        'Where most cases of each bucket at the end of 2026-10 were a month later: 1-30 to cured (41.3 %); 31-60 to 61-90 (42 %); 61-90 to 91+ (55 %).',
      funnel: 'Of 1,000 cases: contacted 640 (64 %), promised 310 (31 %), kept the promise 205 (20.5 %), paid 182 (18.2 %).',
      'qa-scores': expect.stringMatching(/^Average over the period: li\.wei \d+(\.\d)? \(\d+ scored\), maria\.k .+, tom\.b .+\.$/),
      'findings-by-rule':
        '81 findings of 5 rules: contact-hours 25 (82.4 % confirmed), promise-follow-up 22 (42.9 % confirmed), forbidden-wording 14 (90 % confirmed), disclosure-opt-out 11 (not reviewed yet), third-party-disclosure 9 (66.7 % confirmed).',
    });
  });

  it('say "no data yet" in every summary when there are no figures', () => {
    for (const chart of reportCharts(NO_FIGURES).charts) {
      expect(chart.summary).toMatch(/^No data yet/);
      expect(titleOf(chart.option)).toBe(NO_DATA_YET);
    }
  });
});
