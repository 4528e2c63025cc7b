import type { CaseStatus } from './statuses';
import type { TouchKind } from './touch-kinds';

/**
 * The collection figures both the reports and the experiments count, defined once: which touches
 * are attempts and contacts, what a cured case is, and how a share is rounded. The SQL fragments
 * are the same rules for the repositories that count them in the database.
 */

/** The automated touches that try to reach the debtor, and the people's contacts. */
export const ATTEMPT_KINDS = ['notice.sent', 'notice.failed', 'letter.sent', 'letter.failed', 'contact.recorded'] as const satisfies readonly TouchKind[];
/** Automated attempts that reached the debtor (the provider or the post took them). */
export const REACHED_KINDS = ['notice.sent', 'letter.sent'] as const satisfies readonly TouchKind[];
/** Outcomes of a person's contact in which nobody was reached. */
export const UNREACHED_OUTCOMES = ['no-answer', 'wrong-number'] as const;
/** Outcomes that, with the debtor as the party, make a right-party contact (the contact contract). */
export const RIGHT_PARTY_OUTCOMES = ['right-party-contact', 'promise', 'refusal', 'dispute', 'hardship'] as const;
/** A case is cured when it was resolved by payment (paid in full); written off, cancelled and closed are not cures. */
export const CURED_STATUS = 'resolved' satisfies CaseStatus;

// The lists are constants of this file, so they are written into the SQL as literals.
const sqlList = (values: readonly string[]) => values.map((value) => `'${value}'`).join(', ');

/** SQL: the touch `t` is an attempt to reach the debtor. */
export const attemptSql = (t: string) => `${t}.kind IN (${sqlList(ATTEMPT_KINDS)})`;

/** SQL: the touch `t` is an attempt that reached someone. */
export const contactSql = (t: string) =>
  `(${t}.kind IN (${sqlList(REACHED_KINDS)}) OR (${t}.kind = 'contact.recorded' AND COALESCE(${t}.data->>'outcome', '') NOT IN (${sqlList(UNREACHED_OUTCOMES)})))`;

/** SQL: the touch `t` is a right-party contact: a person's contact that reached the debtor. */
export const rightPartyContactSql = (t: string) =>
  `(${t}.kind = 'contact.recorded' AND ${t}.data->>'party' = 'debtor' AND ${t}.data->>'outcome' IN (${sqlList(RIGHT_PARTY_OUTCOMES)}))`;

/** SQL: the case `c` is cured. */
export const curedSql = (c: string) => `${c}.status = '${CURED_STATUS}'`;

/** A share in [0, 1], null when there is nothing to divide by; four decimals are plenty for a report. */
export function rate(numerator: number, denominator: number): number | null {
  return denominator > 0 ? Math.round((numerator / denominator) * 10_000) / 10_000 : null;
}

/** Contacts per cured case, two decimals; null without a cure. */
export function contactsPerCure(contacts: number, cured: number): number | null {
  return cured > 0 ? Math.round((contacts / cured) * 100) / 100 : null;
}
