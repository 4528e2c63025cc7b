import { DateTime } from 'luxon';
import type { EntityManager } from 'typeorm';
import type { TouchInput } from '../domain/touch-kinds';
import { formatMinorUnits } from '../domain/money';
import { daysPastDue } from '../domain/ladder';
import { lateFee, trimRate } from '../domain/late-fee';
import type { LetterFee } from '../domain/letter-fields';

/** What letters and fee assessments need to know about a case, read under its lock. */
export interface CaseTerms {
  id: string;
  status: string;
  currency: string;
  principal_minor: string;
  balance_minor: string;
  fees_minor: string;
  contract_status: string;
  touch_seq: number;
  touch_hash: string;
  invoice_ref: string;
  contract_ref: string | null;
  contract_date: string | null;
  due_date: string | null;
  due_at: Date;
  rate_per_day: string | null;
  late_fee: { ratePerDay?: string; capRatio?: string } | null;
  debtor_id: string;
  debtor_name: string;
  debtor_email: string | null;
  debtor_address: Record<string, string> | null;
  locale: string | null;
  timezone: string;
}

/** Locks the case row (the audit chain's writer lock) and reads its terms; undefined when there is no such case. */
export async function lockCaseTerms(m: EntityManager, caseId: string): Promise<CaseTerms | undefined> {
  const [row]: CaseTerms[] = await m.query(
    `SELECT c.id, c.status, trim(c.currency) AS currency, c.principal_minor, c.balance_minor, c.fees_minor, c.contract_status, c.touch_seq, c.touch_hash,
       i.external_id AS invoice_ref, i.contract_ref, to_char(i.contract_date, 'YYYY-MM-DD') AS contract_date,
       to_char(i.due_date, 'YYYY-MM-DD') AS due_date, i.due_at, i.late_fee_rate_per_day::text AS rate_per_day,
       p.definition->'lateFee' AS late_fee,
       d.id AS debtor_id, d.name AS debtor_name, d.email AS debtor_email, d.address AS debtor_address, d.locale, d.timezone
     FROM cases c JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id JOIN policy_versions p ON p.id = c.policy_version_id
     WHERE c.id = $1 FOR UPDATE OF c`,
    [caseId],
  );
  return row;
}

/** The debtor's calendar day of an instant. */
export const localDate = (at: Date, timezone: string): string => DateTime.fromJSDate(at, { zone: timezone }).toISODate()!;

/** The invoice's own daily rate wins over the policy's; the cap is the policy's. */
export function feeTerms(terms: CaseTerms): { ratePerDay: string; capRatio: string | null } | null {
  const ratePerDay = terms.rate_per_day ?? terms.late_fee?.ratePerDay;
  return ratePerDay ? { ratePerDay, capRatio: terms.late_fee?.capRatio ?? null } : null;
}

/**
 * The late fee accrued on the outstanding balance up to `asOf` (the debtor's day), or null when
 * no rate applies. The fee runs from the first local day after the due date.
 */
export function accruedFee(terms: CaseTerms, asOf: Date): LetterFee | null {
  const agreed = feeTerms(terms);
  if (!agreed) return null;
  const days = daysPastDue(terms.due_at, asOf, terms.timezone);
  const fee = lateFee(BigInt(terms.balance_minor), BigInt(terms.principal_minor), days, agreed);
  const money = (minor: bigint) => formatMinorUnits(minor, terms.currency);
  return {
    startDate: localDate(terms.due_at, terms.timezone),
    ratePerDay: trimRate(agreed.ratePerDay),
    days,
    base: money(BigInt(terms.balance_minor)),
    accrued: money(fee.accruedMinor),
    perDay: money(fee.perDayMinor),
    asOf: localDate(asOf, terms.timezone),
    cap: fee.capMinor === null ? null : money(fee.capMinor),
    capped: fee.capped,
  };
}

/** Ends the case's contract (once): by a termination letter, or a `terminate-contract` step. */
export async function terminateContract(m: EntityManager, terms: CaseTerms, actor: string, at: Date, cause: Record<string, unknown>): Promise<TouchInput[]> {
  if (terms.contract_status !== 'active') return [];
  await m.query(`UPDATE cases SET contract_status = 'terminated', contract_terminated_at = $2, updated_at = $2 WHERE id = $1`, [terms.id, at]);
  terms.contract_status = 'terminated';
  return [{ kind: 'contract.terminated', actor, data: { ...cause, contractRef: terms.contract_ref, effectiveDate: localDate(at, terms.timezone) } }];
}
