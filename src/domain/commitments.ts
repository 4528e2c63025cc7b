import { DateTime, Duration } from 'luxon';
import { formatMinorUnits, toMinorUnits } from './money';

export interface Instalment {
  dueDate: string;
  amount: string;
}

/** When a promise or instalment due on `date` counts as missed: the end of that local day plus the grace period. */
export function graceEnds(date: string, timezone: string, grace: string): Date {
  return DateTime.fromISO(date, { zone: timezone }).plus({ days: 1 }).startOf('day').plus(Duration.fromISO(grace)).toJSDate();
}

/**
 * Checks an instalment schedule against the balance, in minor units: dates strictly increasing
 * from `today`, amounts above zero, summing to the balance. Returns the problems, by field.
 */
export function checkInstalments(
  instalments: readonly Instalment[],
  currency: string,
  balanceMinor: bigint,
  today: string,
): { field: string; reason: string }[] {
  const problems: { field: string; reason: string }[] = [];
  let total = 0n;
  instalments.forEach((instalment, i) => {
    const minor = toMinorUnits(instalment.amount, currency);
    if (minor === null || minor <= 0n)
      problems.push({ field: `instalments[${i}].amount`, reason: `must be above zero with at most the decimals ${currency} allows` });
    else total += minor;
    if (instalment.dueDate < today) problems.push({ field: `instalments[${i}].dueDate`, reason: `must not be before today (${today})` });
    const previous = instalments[i - 1];
    if (previous && instalment.dueDate <= previous.dueDate)
      problems.push({ field: `instalments[${i}].dueDate`, reason: 'must be after the previous instalment' });
  });
  if (problems.length === 0 && total !== balanceMinor) {
    problems.push({
      field: 'instalments',
      reason: `must add up to the balance ${formatMinorUnits(balanceMinor, currency)}, not ${formatMinorUnits(total, currency)}`,
    });
  }
  return problems;
}
