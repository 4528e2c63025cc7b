import type { CONTACT_OUTCOMES } from './quality';
import type { CaseStatus } from './statuses';
import type { TouchKind } from './touch-kinds';

type ContactOutcome = (typeof CONTACT_OUTCOMES)[number];

/**
 * The collection figures both the reports and the experiments count, defined once: which touches
 * are attempts, contacts and messages, what a cured case is, and how a share is rounded. The SQL
 * fragments are the same rules, for the repositories that count them in the database.
 */

/**
 * A contact is a person's: a collector's call, visit, chat, email or letter (`contact.recorded`).
 * The service's own messages are counted apart, as messages: they cannot tell who read them.
 */
export const PERSONS_CONTACT_KIND = 'contact.recorded' satisfies TouchKind;
/** Outcomes of a person's contact in which nobody was reached. */
export const UNREACHED_OUTCOMES = ['no-answer', 'wrong-number'] as const satisfies readonly ContactOutcome[];
/** Outcomes that, with the debtor as the party, make a right-party contact (the contact contract). */
export const RIGHT_PARTY_OUTCOMES = ['right-party-contact', 'promise', 'refusal', 'dispute', 'hardship'] as const satisfies readonly ContactOutcome[];
/** The service's messages that left: the provider or the post took them. */
export const MESSAGE_SENT_KINDS = ['notice.sent', 'letter.sent'] as const satisfies readonly TouchKind[];
/** The touches that can confirm a message delivered: an SMS or email provider's receipt (with its status), the post's. */
export const MESSAGE_DELIVERED_KINDS = ['notice.delivered', 'letter.delivered'] as const satisfies readonly TouchKind[];
/** A cured case was resolved by payment (paid in full); written off, cancelled and closed are not cures. */
export const CURED_STATUS = 'resolved' satisfies CaseStatus;

// The lists are constants of this file, so they are written into the SQL as literals.
const sqlList = (values: readonly string[]) => values.map((value) => `'${value}'`).join(', ');

/** SQL: the touch `t` is a person's attempt to reach the debtor's side. */
export const attemptSql = (t: string) => `${t}.kind = '${PERSONS_CONTACT_KIND}'`;

/** SQL: the touch `t` is a person's attempt that reached someone. */
export const contactSql = (t: string) => `(${attemptSql(t)} AND COALESCE(${t}.data->>'outcome', '') NOT IN (${sqlList(UNREACHED_OUTCOMES)}))`;

/** SQL: the touch `t` is a right-party contact: a person's contact that reached the debtor. */
export const rightPartyContactSql = (t: string) =>
  `(${attemptSql(t)} AND ${t}.data->>'party' = 'debtor' AND ${t}.data->>'outcome' IN (${sqlList(RIGHT_PARTY_OUTCOMES)}))`;

/** SQL: the touch `t` is a message the service sent. */
export const messageSentSql = (t: string) => `${t}.kind IN (${sqlList(MESSAGE_SENT_KINDS)})`;

/** SQL: the touch `t` confirms a message delivered (a receipt of another status does not). */
export const messageDeliveredSql = (t: string) =>
  `(${t}.kind IN (${sqlList(MESSAGE_DELIVERED_KINDS)}) AND (${t}.kind <> 'notice.delivered' OR ${t}.data->>'status' = 'delivered'))`;

/** SQL: the touch `t` is one the figures above read: an attempt or a message. */
export const outreachSql = (t: string) => `(${attemptSql(t)} OR ${t}.kind IN (${sqlList([...MESSAGE_SENT_KINDS, ...MESSAGE_DELIVERED_KINDS])}))`;

/** SQL: the case `c` is cured. */
export const curedSql = (c: string) => `${c}.status = '${CURED_STATUS}'`;

/** SQL: the case `c` was cured within `horizon` (an interval expression) of its opening. */
export const curedWithinSql = (c: string, horizon: string) => `(${curedSql(c)} AND ${c}.closed_at <= ${c}.opened_at + ${horizon})`;

/** A share in [0, 1], null when there is nothing to divide by; four decimals are plenty for a report. */
export function rate(numerator: number, denominator: number): number | null {
  return denominator > 0 ? Math.round((numerator / denominator) * 10_000) / 10_000 : null;
}

/** Contacts per cure: every attempt to reach the debtor, a person's or a message, per cured case; two decimals, null without a cure. */
export function contactsPerCure(attempts: number, messagesSent: number, cured: number): number | null {
  return cured > 0 ? Math.round(((attempts + messagesSent) / cured) * 100) / 100 : null;
}
