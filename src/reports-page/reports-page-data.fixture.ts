/**
 * A portfolio's figures as the reports service gives them, for the page's tests: two policies'
 * cure curves over 90 days, two months of roll rates, a funnel, three collectors' QA scores over
 * two weeks (with days off) and five rules' findings.
 */
import { rate } from '../domain/collection-figures';
import type { CureCurvePoint, FindingsByRuleRow, QaScoreRow, ReportsPageData, RollRateCell } from '../reports/report-rows';

/** Cumulative cures rising towards a ceiling, as cure curves do. */
function cureCurve(policy: string, cases: number, ceiling: number, pace: number): CureCurvePoint[] {
  return Array.from({ length: 19 }, (_, step) => {
    const day = step * 5;
    const cured = Math.round(cases * ceiling * (1 - Math.exp(-day / pace)));
    return { policy, day, cases, cured, cureRate: rate(cured, cases) };
  });
}

const BUCKETS = ['1-30', '31-60', '61-90', '91+'];
/** Per from-bucket: cases at the end of the month, then how many were cured or in each bucket a month later. */
const ROLLS: Record<string, Record<string, [number, ...number[]]>> = {
  '2026-09': { '1-30': [400, 150, 130, 120, 0, 0], '31-60': [220, 40, 20, 60, 100, 0], '61-90': [150, 15, 5, 10, 30, 90], '91+': [90, 4, 0, 0, 2, 84] },
  '2026-10': { '1-30': [460, 190, 140, 130, 0, 0], '31-60': [250, 50, 25, 70, 105, 0], '61-90': [160, 20, 4, 12, 36, 88], '91+': [0, 0, 0, 0, 0, 0] },
};

function rollRates(): RollRateCell[] {
  return Object.entries(ROLLS).flatMap(([month, rows]) =>
    Object.entries(rows).flatMap(([fromBucket, [total, ...moved]]) =>
      ['cured', ...BUCKETS].map((toBucket, index) => ({ month, fromBucket, toBucket, cases: moved[index]!, rate: rate(moved[index]!, total) })),
    ),
  );
}

const COLLECTORS = { 'li.wei': [88, 4], 'maria.k': [76, 9], 'tom.b': [64, 14] } as const;

function qaScores(): QaScoreRow[] {
  return Object.entries(COLLECTORS).flatMap(([key, [level, spread]], which) =>
    Array.from({ length: 14 }, (_, index) => index)
      // Each collector is off on some days.
      .filter((index) => (index + which) % 6 !== 5)
      .map((index) => {
        const scored = 8 + ((index * 7 + which * 3) % 9);
        const averageScore = Math.round((level + spread * Math.sin(index + which)) * 10) / 10;
        const failed = Math.round((scored * (100 - averageScore)) / 100);
        return { key, day: `2026-11-${String(16 + index).padStart(2, '0')}`, scored, averageScore, failed, autofailed: failed > 3 ? 1 : 0 };
      }),
  );
}

function finding(ruleId: string, open: number, appealed: number, confirmed: number, overturned: number): FindingsByRuleRow {
  return {
    ruleId,
    findings: open + appealed + confirmed + overturned,
    open,
    appealed,
    confirmed,
    overturned,
    confirmedShare: rate(confirmed, confirmed + overturned),
  };
}

export function reportsPageData(): ReportsPageData {
  return {
    cureCurve: [...cureCurve('consumer-default', 1200, 0.58, 28), ...cureCurve('commercial-firm', 340, 0.71, 18)],
    rollRates: rollRates(),
    funnel: [
      { stage: 'cases', cases: 1000 },
      { stage: 'contacted', cases: 640 },
      { stage: 'promised', cases: 310 },
      { stage: 'kept', cases: 205 },
      { stage: 'paid', cases: 182 },
    ],
    qaScoresByCollector: qaScores(),
    findingsByRule: [
      finding('contact-hours', 6, 2, 14, 3),
      finding('forbidden-wording', 3, 1, 9, 1),
      finding('disclosure-opt-out', 11, 0, 0, 0),
      finding('third-party-disclosure', 1, 2, 4, 2),
      finding('promise-follow-up', 5, 3, 6, 8),
    ],
  };
}

export const NO_FIGURES: ReportsPageData = { cureCurve: [], rollRates: [], funnel: [], qaScoresByCollector: [], findingsByRule: [] };
