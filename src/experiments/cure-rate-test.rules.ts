import { errorFunction } from 'simple-statistics';

/** The standard normal's 97.5 % quantile, for 95 % two-sided intervals (simple-statistics' `probit` approximates it as 1.957). */
export const Z_975 = 1.959963984540054;
/** The significance level the verdict uses. */
export const ALPHA = 0.05;
/** Below this many cured, or not cured, debtors in an arm the normal approximation behind the test does not hold. */
export const MIN_OUTCOMES = 5;

/**
 * An arm's sample: its debtors past the horizon, each counted once by their first case in the
 * experiment, and how many of those first cases were cured within the horizon. The split is by
 * debtor, so a debtor's cases are not independent trials: the debtor is the unit.
 */
export interface Sample {
  debtors: number;
  cured: number;
}

export interface ProportionTest {
  /** Challenger's cure rate minus champion's. */
  difference: number | null;
  /** (p₂ − p₁) / √(p̂(1 − p̂)(1/n₁ + 1/n₂)), p̂ pooled; null when every debtor or none is cured. */
  z: number | null;
  /** Two-sided: P(|Z| ≥ |z|) under equal cure rates. */
  pValue: number | null;
  /** 95 % Wald interval of the difference, with the unpooled standard error. */
  confidenceInterval: { level: 0.95; low: number; high: number } | null;
}

/** Two-sided P(|Z| ≥ |z|) for a standard normal Z: erfc(|z|/√2). */
export function twoSidedP(z: number): number {
  return 1 - errorFunction(Math.abs(z) / Math.SQRT2);
}

/** The two-proportion z-test of the challenger's cure rate against the champion's. */
export function twoProportionTest(champion: Sample, challenger: Sample): ProportionTest {
  if (champion.debtors === 0 || challenger.debtors === 0) return { difference: null, z: null, pValue: null, confidenceInterval: null };
  const p1 = champion.cured / champion.debtors;
  const p2 = challenger.cured / challenger.debtors;
  const difference = p2 - p1;
  const pooled = (champion.cured + challenger.cured) / (champion.debtors + challenger.debtors);
  const pooledError = Math.sqrt(pooled * (1 - pooled) * (1 / champion.debtors + 1 / challenger.debtors));
  const z = pooledError > 0 ? difference / pooledError : null;
  const error = Math.sqrt((p1 * (1 - p1)) / champion.debtors + (p2 * (1 - p2)) / challenger.debtors);
  return {
    difference,
    z,
    pValue: z === null ? null : twoSidedP(z),
    confidenceInterval: { level: 0.95, low: difference - Z_975 * error, high: difference + Z_975 * error },
  };
}

export const VERDICTS = ['insufficient-sample', 'challenger-better', 'champion-better', 'no-difference'] as const;
export type VerdictOutcome = (typeof VERDICTS)[number];

const percent = (rate: number) => `${(rate * 100).toFixed(1)} %`;
const points = (difference: number) => `${difference >= 0 ? '+' : '−'}${Math.abs(difference * 100).toFixed(1)} points`;

/** Each arm has its `minSample` debtors past the horizon: the fixed sample the test is read on. */
export const sampleComplete = (champion: Sample, challenger: Sample, minSample: number) => champion.debtors >= minSample && challenger.debtors >= minSample;

/**
 * What the test says in plain words. No winner is named before the sample is complete (a
 * verdict read while it fills would pick a winner by chance far more often than 5 %), nor with
 * fewer than five cured or five uncured debtors in an arm (the test's normal approximation).
 */
export function verdict(champion: Sample, challenger: Sample, test: ProportionTest, minSample: number): { outcome: VerdictOutcome; text: string } {
  if (!sampleComplete(champion, challenger, minSample)) {
    const small = Object.entries<Sample>({ champion, challenger }).filter(([, arm]) => arm.debtors < minSample);
    const counts = small.map(([name, arm]) => `the ${name} has ${arm.debtors}`).join(' and ');
    return { outcome: 'insufficient-sample', text: `Too early to call: ${counts} debtors past the horizon; each arm needs at least ${minSample}.` };
  }
  const thin = [champion, challenger].some((arm) => arm.cured < MIN_OUTCOMES || arm.debtors - arm.cured < MIN_OUTCOMES);
  if (thin || test.z === null || test.pValue === null || test.difference === null) {
    return {
      outcome: 'insufficient-sample',
      text: `Too early to call: each arm needs at least ${MIN_OUTCOMES} cured and ${MIN_OUTCOMES} uncured debtors for the test to hold.`,
    };
  }
  const rates = `challenger ${percent(challenger.cured / challenger.debtors)} against champion ${percent(champion.cured / champion.debtors)}`;
  const p = `p = ${test.pValue < 0.0001 ? '< 0.0001' : test.pValue.toFixed(4)}`;
  if (test.pValue >= ALPHA) {
    return {
      outcome: 'no-difference',
      text: `No clear difference in cure rate (${rates}, ${points(test.difference)}, ${p}): keep the experiment running or stop it.`,
    };
  }
  const better = test.difference > 0 ? 'challenger' : 'champion';
  return {
    outcome: better === 'challenger' ? 'challenger-better' : 'champion-better',
    text: `The ${better} cures more: ${rates} (${points(test.difference)}, ${p}, significant at ${ALPHA * 100} %).`,
  };
}
