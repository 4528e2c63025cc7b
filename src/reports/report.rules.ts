import { contactsPerCure, rate } from '../domain/collection-figures';
import { checkedRate } from '../domain/late-fee';
import { amountAtRate, formatMinorUnits } from '../domain/money';
import type { TouchKind } from '../domain/touch-kinds';
import {
  type CommissionRow,
  type CureCurvePoint,
  FUNNEL_STAGES,
  type FunnelStage,
  type FindingsByRuleRow,
  type KpiRow,
  type QaScoreRow,
  type RollRateCell,
} from './report-rows';

/**
 * The reports' figures, computed from the counts the repository aggregates in SQL: rates,
 * days-past-due buckets, the cure curve, roll rates, the funnel and commissions. No I/O here.
 */

/** Days-past-due buckets by their first day; a DPD below the first bound is `current`. */
export const DPD_BUCKETS = [
  { label: 'current', from: Number.NEGATIVE_INFINITY },
  { label: '1-30', from: 1 },
  { label: '31-60', from: 31 },
  { label: '61-90', from: 61 },
  { label: '91-180', from: 91 },
  { label: '181+', from: 181 },
] as const;

/** The bounds SQL buckets with (`width_bucket(dpd, bounds)` answers the index into DPD_BUCKETS). */
export const DPD_BOUNDS = DPD_BUCKETS.slice(1).map((bucket) => bucket.from);

/** Where a case went when it left the buckets: the roll-rate columns after the buckets. */
export const LEFT_BUCKETS = { cured: -1, closed: -2 } as const;

/** The bucket label of a `width_bucket` index (or of LEFT_BUCKETS). */
export function bucketLabel(index: number): string {
  if (index === LEFT_BUCKETS.cured) return 'cured';
  if (index === LEFT_BUCKETS.closed) return 'closed';
  const bucket = DPD_BUCKETS[index];
  if (!bucket) throw new RangeError(`no days-past-due bucket ${index}`);
  return bucket.label;
}

/** The bucket of a number of days past due (what `width_bucket` computes in SQL). */
export function dpdBucket(days: number): string {
  return bucketLabel(DPD_BOUNDS.filter((bound) => days >= bound).length);
}

export const PROMISE_KINDS = ['promise.recorded', 'promise.kept', 'promise.broken'] as const satisfies readonly TouchKind[];

/** What a KPI row can be split by. */
export const KPI_DIMENSIONS = ['dpd', 'channel', 'policy', 'segment', 'collector', 'agency'] as const;
export type KpiDimension = (typeof KPI_DIMENSIONS)[number];

export const QA_DIMENSIONS = ['collector', 'agency', 'template', 'policy', 'day'] as const;
export type QaDimension = (typeof QA_DIMENSIONS)[number];

/** The key of a row whose attribute is missing (no segment, no agency on a touch). */
export const NO_KEY = '(none)';
/** The agency key of cases never placed with an agency. */
export const IN_HOUSE = '(in-house)';

/**
 * Every figure, defined once: docs/reports.md repeats these texts (a unit test holds them equal)
 * and every JSON answer carries the ones it uses.
 */
export const DEFINITIONS = {
  cohort: 'The KPIs, the cure curve and the funnel follow the cases opened in [from, to] (UTC dates, both days included) from their opening until now.',
  cases:
    'Cases in the row: for dpd, policy, segment and agency the cohort cases with that attribute; for channel and collector the cohort cases with an attempt or a message by that key.',
  dpd: "Days past due, counted as the policy ladder counts them: the day the invoice fell due, in the debtor's time zone, is day 1; the KPIs use the days past due at the case's opening. Buckets: current (0 or less), 1-30, 31-60, 61-90, 91-180, 181+.",
  agency: 'The agency the case was placed with; (in-house) when it never was.',
  attempts:
    "Contact attempts by people: contact.recorded touches (calls, visits, chats, a person's emails and letters), whatever their outcome; for collector, by its actor.",
  contacts: 'Attempts that reached someone: contact.recorded touches whose outcome is not no-answer or wrong-number.',
  contactRate: 'contacts ÷ attempts.',
  rightPartyContacts: 'contact.recorded touches with party debtor and outcome right-party-contact, promise, refusal, dispute or hardship.',
  rightPartyContactRate: 'right-party contacts ÷ attempts.',
  messagesSent:
    "The service's own messages that left, counted apart from the contacts as they cannot tell who read them: notice.sent and letter.sent touches (none for collector).",
  messagesDelivered:
    "Messages confirmed delivered: notice.delivered touches with status delivered (the provider's receipt) and letter.delivered touches (the post's).",
  promiseRate: 'Cases with at least one promise.recorded ÷ cases.',
  keptPromiseRate: 'promise.kept ÷ (promise.kept + promise.broken): of the promises whose outcome is known, the share kept.',
  cureRate: 'Cured cases ÷ cases; a case is cured when it was resolved by payment (paid in full).',
  recovered: 'The sum of the payments (payment.applied) on the cases, per currency, in minor-unit exact decimals.',
  contactsPerCure: '(attempts + messagesSent) ÷ cured cases: every try to reach the debtor, by a person or a message, per cure.',
  commission:
    "Agency commission: the payments dated in [from, to] on a case at or after its placement, times the placement's commission rate (AGENCY_COMMISSION_RATE when placed), summed per agency, currency and rate and rounded half up to the minor unit; placements counts the agency's placements made by the end of the period.",
  rollRate:
    'Of the open cases in fromBucket at the end of month (UTC), the share in toBucket at the end of the next month; cured and closed are cases that left the buckets by payment or otherwise. A month counts when its last day is in [from, to] and its next month has ended: a to inside a month leaves that month out.',
  cureCurve: 'Per policy and day d since opening: of the cohort cases opened at least d days ago, the share cured within d days of opening.',
  funnel:
    "Cohort cases, then those contacted (at least one person's contact), of these those promised (a promise.recorded), of these those kept (a promise.kept), of these those paid (cured); each stage is within the one before.",
  qaScores:
    'qa.scored touches recorded in [from, to], per key and UTC day: scored touches, their average score, failed (at least one rule failed) and autofailed (an autofail rule failed).',
  findingsByRule:
    'QA findings created in [from, to] per rule by review status; confirmedShare = confirmed ÷ (confirmed + overturned), null when none was reviewed: the calibration of the rule.',
} as const;
export type DefinitionName = keyof typeof DEFINITIONS;

/** The named definitions, for an answer's `definitions`. */
export const definitionsOf = (...names: DefinitionName[]): Record<string, string> => Object.fromEntries(names.map((name) => [name, DEFINITIONS[name]]));

/** What the repository counts for one key of a KPI split, in one currency. */
export interface KpiCounts {
  key: string;
  currency: string;
  cases: number;
  attempts: number;
  contacts: number;
  rightPartyContacts: number;
  messagesSent: number;
  messagesDelivered: number;
  promisedCases: number;
  promisesKept: number;
  promisesBroken: number;
  cured: number;
  recoveredMinor: bigint;
}

const byKey = <T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> => {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
};
const total = <T>(rows: readonly T[], pick: (row: T) => number) => rows.reduce((sum, row) => sum + pick(row), 0);

/** KPI rows from per-(key, currency) counts: counts add up across currencies, money stays per currency. */
export function kpiRows(counts: readonly KpiCounts[], label: (key: string) => string = (key) => key): KpiRow[] {
  return [...byKey(counts, (row) => row.key)].map(([key, rows]) => {
    const sum = (pick: (row: KpiCounts) => number) => total(rows, pick);
    const attempts = sum((r) => r.attempts);
    const contacts = sum((r) => r.contacts);
    const rightPartyContacts = sum((r) => r.rightPartyContacts);
    const messagesSent = sum((r) => r.messagesSent);
    const cases = sum((r) => r.cases);
    const promisedCases = sum((r) => r.promisedCases);
    const promisesKept = sum((r) => r.promisesKept);
    const promisesBroken = sum((r) => r.promisesBroken);
    const cured = sum((r) => r.cured);
    return {
      key: label(key),
      cases,
      attempts,
      contacts,
      contactRate: rate(contacts, attempts),
      rightPartyContacts,
      rightPartyContactRate: rate(rightPartyContacts, attempts),
      messagesSent,
      messagesDelivered: sum((r) => r.messagesDelivered),
      promisedCases,
      promiseRate: rate(promisedCases, cases),
      promisesKept,
      promisesBroken,
      keptPromiseRate: rate(promisesKept, promisesKept + promisesBroken),
      cured,
      cureRate: rate(cured, cases),
      recovered: rows
        .filter((row) => row.recoveredMinor > 0n)
        .map((row) => ({ currency: row.currency, amount: formatMinorUnits(row.recoveredMinor, row.currency) }))
        .sort((a, b) => a.currency.localeCompare(b.currency)),
      contactsPerCure: contactsPerCure(attempts, messagesSent, cured),
    };
  });
}

/** Recovered amounts of one agency, currency and commission rate. */
export interface RecoveredAtRate {
  agency: string;
  currency: string;
  rate: string;
  placements: number;
  recoveredMinor: bigint;
}

/** Commission per agency and currency: Σ over its rates of round_half_up(recovered × rate). */
export function commissionRows(groups: readonly RecoveredAtRate[]): CommissionRow[] {
  return [...byKey(groups, (group) => `${group.agency}\u0000${group.currency}`)].map(([, rows]) => {
    const { agency, currency } = rows[0]!;
    const recovered = rows.reduce((sum, row) => sum + row.recoveredMinor, 0n);
    const commission = rows.reduce((sum, row) => sum + amountAtRate(row.recoveredMinor, checkedRate(row.rate)), 0n);
    return {
      agency,
      currency,
      placements: total(rows, (row) => row.placements),
      recovered: formatMinorUnits(recovered, currency),
      commission: formatMinorUnits(commission, currency),
    };
  });
}

/** Cohort cases of a policy by how many days ago they opened (capped) and the day they were cured on, if cured. */
export interface CaseAges {
  policy: string;
  ageDays: number;
  curedDay: number | null;
  cases: number;
}

/** The cure curve, days 0…`days` per policy: a case counts on day d once it is d days old. */
export function cureCurve(ages: readonly CaseAges[], days: number): CureCurvePoint[] {
  return [...byKey(ages, (row) => row.policy)]
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([policy, rows]) => {
      // A case counts on days 0…its age, and as cured on its cure day…its age: ranges added as
      // differences and summed once, so the curve costs rows + days, not rows × days.
      const seen = new Array<number>(days + 2).fill(0);
      const curedOn = new Array<number>(days + 2).fill(0);
      for (const row of rows) {
        const last = Math.min(row.ageDays, days);
        if (last < 0) continue;
        seen[0]! += row.cases;
        seen[last + 1]! -= row.cases;
        if (row.curedDay !== null && row.curedDay <= last) {
          curedOn[Math.max(row.curedDay, 0)]! += row.cases;
          curedOn[last + 1]! -= row.cases;
        }
      }
      let cases = 0;
      let cured = 0;
      return Array.from({ length: days + 1 }, (_, day) => {
        cases += seen[day]!;
        cured += curedOn[day]!;
        return { policy, day, cases, cured, cureRate: rate(cured, cases) };
      });
    });
}

/** Cases that went from one bucket index to another between two month ends. */
export interface BucketMove {
  month: string;
  from: number;
  to: number;
  cases: number;
}

/** Roll-rate cells: each move as a share of its month's and bucket's cases, in bucket order. */
export function rollRates(moves: readonly BucketMove[]): RollRateCell[] {
  const order = (index: number) => (index < 0 ? DPD_BUCKETS.length - index : index);
  const base = new Map<string, number>();
  for (const move of moves) base.set(`${move.month}/${move.from}`, (base.get(`${move.month}/${move.from}`) ?? 0) + move.cases);
  return [...moves]
    .sort((a, b) => a.month.localeCompare(b.month) || a.from - b.from || order(a.to) - order(b.to))
    .map((move) => ({
      month: move.month,
      fromBucket: bucketLabel(move.from),
      toBucket: bucketLabel(move.to),
      cases: move.cases,
      rate: rate(move.cases, base.get(`${move.month}/${move.from}`) ?? 0),
    }));
}

/** A month of the roll rates: its label, its end and the end of the next month (UTC). */
export interface RollMonth {
  month: string;
  end: Date;
  nextEnd: Date;
}

/**
 * The months whose end falls in [from, to) and whose next month has ended by `now`. A period
 * that ends inside a month leaves that month out: its end is not in the period, and reading its
 * buckets at a later month end would report it as if it had finished there.
 */
export function rollMonths(from: Date, to: Date, now: Date): RollMonth[] {
  const months: RollMonth[] = [];
  for (let month = from.getUTCMonth(); ; month++) {
    const start = new Date(Date.UTC(from.getUTCFullYear(), month, 1));
    const end = new Date(Date.UTC(from.getUTCFullYear(), month + 1, 1));
    const nextEnd = new Date(Date.UTC(from.getUTCFullYear(), month + 2, 1));
    if (end > to || nextEnd > now) return months;
    months.push({ month: start.toISOString().slice(0, 7), end, nextEnd });
  }
}

/** How many cohort cases have each combination of the funnel's facts. */
export interface FunnelFacts {
  contacted: boolean;
  promised: boolean;
  kept: boolean;
  paid: boolean;
  cases: number;
}

/** The funnel: each stage counts the cases that reached it and every stage before it. */
export function funnel(facts: readonly FunnelFacts[]): FunnelStage[] {
  const reached = (row: FunnelFacts) => [true, row.contacted, row.promised, row.kept, row.paid];
  return FUNNEL_STAGES.map((stage, index) => ({
    stage,
    cases: total(
      facts.filter((row) =>
        reached(row)
          .slice(0, index + 1)
          .every(Boolean),
      ),
      (row) => row.cases,
    ),
  }));
}

/** The repository's QA score sums for one key and day. */
export interface QaScoreSums {
  key: string | null;
  day: string;
  scored: number;
  scoreSum: number;
  failed: number;
  autofailed: number;
}

export function qaScoreRows(sums: readonly QaScoreSums[]): QaScoreRow[] {
  return sums.map((row) => ({
    key: row.key ?? NO_KEY,
    day: row.day,
    scored: row.scored,
    averageScore: row.scored > 0 ? Math.round((row.scoreSum / row.scored) * 100) / 100 : null,
    failed: row.failed,
    autofailed: row.autofailed,
  }));
}

export type FindingCounts = Omit<FindingsByRuleRow, 'confirmedShare'>;

export function findingsByRule(counts: readonly FindingCounts[]): FindingsByRuleRow[] {
  return counts.map((row) => ({ ...row, confirmedShare: rate(row.confirmed, row.confirmed + row.overturned) }));
}
