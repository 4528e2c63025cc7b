/**
 * The shapes the reports answer with and the reports page draws; rates are fractions in [0, 1]
 * (null when the denominator is zero), money is in minor units as decimal strings.
 */

/** Share of the cases opened under a policy that were cured (paid in full) within `day` days of opening. */
export interface CureCurvePoint {
  policy: string;
  day: number;
  cases: number;
  cured: number;
  cureRate: number | null;
}

/** Of the cases in `fromBucket` at the end of `month`, the share in `toBucket` at the end of the next month. */
export interface RollRateCell {
  month: string;
  fromBucket: string;
  toBucket: string;
  cases: number;
  rate: number | null;
}

export const FUNNEL_STAGES = ['cases', 'contacted', 'promised', 'kept', 'paid'] as const;
export type FunnelStageName = (typeof FUNNEL_STAGES)[number];

export interface FunnelStage {
  stage: FunnelStageName;
  cases: number;
}

/** QA scores of the touches attributed to `key` (a collector, agency, template, policy or the day itself) on `day`. */
export interface QaScoreRow {
  key: string;
  day: string;
  scored: number;
  averageScore: number | null;
  failed: number;
  autofailed: number;
}

/** Findings of one rule by review status; `confirmedShare` = confirmed ÷ (confirmed + overturned), the rule's calibration. */
export interface FindingsByRuleRow {
  ruleId: string;
  findings: number;
  open: number;
  appealed: number;
  confirmed: number;
  overturned: number;
  confirmedShare: number | null;
}

/** Everything the reports page draws, gathered once per page load. */
export interface ReportsPageData {
  cureCurve: CureCurvePoint[];
  rollRates: RollRateCell[];
  funnel: FunnelStage[];
  qaScoresByCollector: QaScoreRow[];
  findingsByRule: FindingsByRuleRow[];
}

/** An amount in one currency, as the API speaks money. */
export interface Amount {
  currency: string;
  amount: string;
}

/** The collection KPIs of one key of a split (`by`): counts, rates, and money per currency. */
export interface KpiRow {
  key: string;
  cases: number;
  attempts: number;
  contacts: number;
  contactRate: number | null;
  rightPartyContacts: number;
  rightPartyContactRate: number | null;
  messagesSent: number;
  messagesDelivered: number;
  promisedCases: number;
  promiseRate: number | null;
  promisesKept: number;
  promisesBroken: number;
  keptPromiseRate: number | null;
  cured: number;
  cureRate: number | null;
  recovered: Amount[];
  contactsPerCure: number | null;
}

/** What one agency recovered in one currency and the commission it earned on it. */
export interface CommissionRow {
  agency: string;
  currency: string;
  placements: number;
  recovered: string;
  commission: string;
}
