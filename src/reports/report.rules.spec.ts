import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bucketLabel,
  commissionRows,
  cureCurve,
  DEFINITIONS,
  dpdBucket,
  findingsByRule,
  funnel,
  type KpiCounts,
  kpiRows,
  qaScoreRows,
  rollMonths,
  rollRates,
} from './report.rules';

const counts = (over: Partial<KpiCounts>): KpiCounts => ({
  key: 'k',
  currency: 'EUR',
  cases: 0,
  attempts: 0,
  contacts: 0,
  rightPartyContacts: 0,
  messagesSent: 0,
  messagesDelivered: 0,
  promisedCases: 0,
  promisesKept: 0,
  promisesBroken: 0,
  cured: 0,
  recoveredMinor: 0n,
  ...over,
});

describe('report figures', () => {
  it('puts days past due in their buckets at the bounds', () => {
    expect([-3, 0, 1, 30, 31, 60, 61, 90, 91, 180, 181, 2000].map(dpdBucket)).toEqual([
      'current',
      'current',
      '1-30',
      '1-30',
      '31-60',
      '31-60',
      '61-90',
      '61-90',
      '91-180',
      '91-180',
      '181+',
      '181+',
    ]);
    expect([bucketLabel(-1), bucketLabel(-2)]).toEqual(['cured', 'closed']);
    expect(() => bucketLabel(6)).toThrow(RangeError);
  });

  it('adds counts across currencies and keeps money per currency', () => {
    const [row] = kpiRows([
      counts({ currency: 'USD', cases: 1, attempts: 2, contacts: 1, messagesSent: 3, messagesDelivered: 1, cured: 1, recoveredMinor: 500n }),
      // 3 cases, 6 people's attempts of which 3 reached someone, 2 of them the debtor; 5 messages, 2 delivered.
      counts({
        cases: 2,
        attempts: 4,
        contacts: 2,
        rightPartyContacts: 2,
        messagesSent: 2,
        messagesDelivered: 1,
        promisedCases: 1,
        promisesKept: 1,
        promisesBroken: 2,
        recoveredMinor: 12_345n,
      }),
    ]);
    expect(row).toEqual({
      key: 'k',
      cases: 3,
      attempts: 6,
      contacts: 3,
      contactRate: 0.5,
      rightPartyContacts: 2,
      rightPartyContactRate: 0.3333, // 2 ÷ 6
      messagesSent: 5,
      messagesDelivered: 2,
      promisedCases: 1,
      promiseRate: 0.3333,
      promisesKept: 1,
      promisesBroken: 2,
      keptPromiseRate: 0.3333,
      cured: 1,
      cureRate: 0.3333,
      recovered: [
        { currency: 'EUR', amount: '123.45' },
        { currency: 'USD', amount: '5.00' },
      ],
      // 6 attempts and 5 messages for 1 cure.
      contactsPerCure: 11,
    });
  });

  it('computes commission per rate, rounded half up, and sums it per agency and currency', () => {
    expect(
      commissionRows([
        // 100.05 × 0.15 = 15.0075 → 15.01; 33.33 × 0.1 = 3.333 → 3.33; together 18.34.
        { agency: 'Acme', currency: 'EUR', rate: '0.1500', placements: 2, recoveredMinor: 10_005n },
        { agency: 'Acme', currency: 'EUR', rate: '0.1000', placements: 1, recoveredMinor: 3_333n },
        { agency: 'Acme', currency: 'JPY', rate: '0.1500', placements: 1, recoveredMinor: 1_003n },
      ]),
    ).toEqual([
      { agency: 'Acme', currency: 'EUR', placements: 3, recovered: '133.38', commission: '18.34' },
      // ¥1003 × 0.15 = 150.45 → ¥150.
      { agency: 'Acme', currency: 'JPY', placements: 1, recovered: '1003', commission: '150' },
    ]);
  });

  it('follows each case on the cure curve only as far as its age', () => {
    const points = cureCurve(
      [
        { policy: 'p', ageDays: 3, curedDay: 1, cases: 1 },
        { policy: 'p', ageDays: 3, curedDay: null, cases: 1 },
        { policy: 'p', ageDays: 1, curedDay: null, cases: 2 },
      ],
      3,
    );
    expect(points.map((point) => [point.day, point.cases, point.cured, point.cureRate])).toEqual([
      [0, 4, 0, 0],
      [1, 4, 1, 0.25],
      // The two one-day-old cases have no day 2 yet.
      [2, 2, 1, 0.5],
      [3, 2, 1, 0.5],
    ]);
  });

  it('draws the cure curve of many cases as counting them day by day would', () => {
    // 30,000 rows of two policies from a fixed sequence, against the count by definition.
    let seed = 7;
    const next = (n: number) => (seed = (seed * 48_271) % 2_147_483_647) % n;
    const ages = Array.from({ length: 30_000 }, () => {
      const ageDays = next(800);
      const cured = next(3) === 0;
      return { policy: next(2) ? 'a' : 'b', ageDays, curedDay: cured ? next(ageDays + 1) : null, cases: 1 + next(3) };
    });
    const days = 730;
    const byDefinition = (policy: string, day: number) => {
      const seen = ages.filter((row) => row.policy === policy && row.ageDays >= day);
      const count = (rows: typeof seen) => rows.reduce((sum, row) => sum + row.cases, 0);
      return [count(seen), count(seen.filter((row) => row.curedDay !== null && row.curedDay <= day))];
    };
    const points = cureCurve(ages, days);
    expect(points).toHaveLength(2 * (days + 1));
    for (const day of [0, 1, 100, 365, 729, 730]) {
      for (const policy of ['a', 'b']) {
        const point = points.find((p) => p.policy === policy && p.day === day)!;
        expect([point.cases, point.cured]).toEqual(byDefinition(policy, day));
      }
    }
  });

  it('shares each move of its month and bucket, buckets first, then cured and closed', () => {
    const cells = rollRates([
      { month: '2026-01', from: 1, to: -1, cases: 1 },
      { month: '2026-01', from: 1, to: 2, cases: 3 },
      { month: '2026-01', from: 1, to: -2, cases: 1 },
      { month: '2026-01', from: 0, to: 1, cases: 2 },
    ]);
    expect(cells.map((cell) => [cell.fromBucket, cell.toBucket, cell.cases, cell.rate])).toEqual([
      ['current', '1-30', 2, 1],
      ['1-30', '31-60', 3, 0.6],
      ['1-30', 'cured', 1, 0.2],
      ['1-30', 'closed', 1, 0.2],
    ]);
  });

  it('lists the months whose next month has ended', () => {
    const months = rollMonths(new Date('2025-11-15T00:00:00Z'), new Date('2026-04-01T00:00:00Z'), new Date('2026-03-01T00:00:00Z'));
    expect(months.map((m) => [m.month, m.end.toISOString(), m.nextEnd.toISOString()])).toEqual([
      ['2025-11', '2025-12-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'],
      ['2025-12', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
      ['2026-01', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    ]);
  });

  it('dates a month by its end: a period ending inside a month leaves that month out', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    const months = (from: string, toExclusive: string) => rollMonths(new Date(from), new Date(toExclusive), now).map((m) => m.month);
    // to = 2026-03-15 (the window ends 03-16): March has not finished in the period.
    expect(months('2026-01-01T00:00:00Z', '2026-03-16T00:00:00Z')).toEqual(['2026-01', '2026-02']);
    // to = 2026-03-31, March's last day: March counts.
    expect(months('2026-01-01T00:00:00Z', '2026-04-01T00:00:00Z')).toEqual(['2026-01', '2026-02', '2026-03']);
    // A period inside one month holds no month end.
    expect(months('2026-03-02T00:00:00Z', '2026-03-31T00:00:00Z')).toEqual([]);
    // A from inside a month keeps that month: its end is in the period.
    expect(months('2026-01-20T00:00:00Z', '2026-03-01T00:00:00Z')).toEqual(['2026-01', '2026-02']);
  });

  it('narrows the funnel: a stage counts only cases that reached every stage before it', () => {
    const stages = funnel([
      { contacted: true, promised: true, kept: true, paid: true, cases: 1 },
      // Paid without a promise: paid, but not in the kept or paid stage.
      { contacted: true, promised: false, kept: false, paid: true, cases: 2 },
      { contacted: false, promised: true, kept: false, paid: false, cases: 1 },
      { contacted: false, promised: false, kept: false, paid: false, cases: 3 },
    ]);
    expect(stages).toEqual([
      { stage: 'cases', cases: 7 },
      { stage: 'contacted', cases: 3 },
      { stage: 'promised', cases: 1 },
      { stage: 'kept', cases: 1 },
      { stage: 'paid', cases: 1 },
    ]);
  });

  it('averages QA scores and names a missing key', () => {
    expect(qaScoreRows([{ key: null, day: '2026-01-02', scored: 3, scoreSum: 200, failed: 1, autofailed: 0 }])).toEqual([
      { key: '(none)', day: '2026-01-02', scored: 3, averageScore: 66.67, failed: 1, autofailed: 0 },
    ]);
  });

  it('calibrates a rule by the share of its reviewed findings confirmed', () => {
    const base = { findings: 4, open: 1, appealed: 0 };
    expect(
      findingsByRule([
        { ruleId: 'a', ...base, confirmed: 2, overturned: 1 },
        { ruleId: 'b', ...base, confirmed: 0, overturned: 0 },
      ]).map((r) => r.confirmedShare),
    ).toEqual([0.6667, null]);
  });

  it('are defined in docs/reports.md word for word', () => {
    const doc = readFileSync(join(process.cwd(), 'docs', 'reports.md'), 'utf8').replace(/\s+/g, ' ');
    for (const [name, text] of Object.entries(DEFINITIONS)) expect(doc).toContain(`\`${name}\`: ${text}`);
  });
});
