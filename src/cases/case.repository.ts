import { Injectable } from '@nestjs/common';
import { Gather } from '../database/gather';
import { Conditions } from '../database/sql';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import type { CaseMoney } from '../domain/account';
import type { AllocationPart } from '../domain/allocation';
import type { LockedCase } from '../domain/case';
import type { PolicyDefinition } from '../domain/policy';
import type { CaseStatus, ClosingStatus } from '../domain/statuses';

export type { LockedCase } from '../domain/case';

/** A locked case with what promises and plans need. */
export interface CommittedCase extends LockedCase {
  paidMinor: bigint;
  timezone: string;
}

/** What letters, fees and step actions need to know about a case, read under its lock. */
export interface CaseTerms {
  id: string;
  status: CaseStatus;
  currency: string;
  principalMinor: bigint;
  balanceMinor: bigint;
  contractStatus: 'active' | 'terminated';
  invoiceRef: string;
  contractRef: string | null;
  contractDate: string | null;
  dueDate: string | null;
  dueAt: Date;
  timezone: string;
  jurisdiction: string | null;
  money: CaseMoney;
  debtor: { id: string; name: string; email: string | null; address: Record<string, string> | null; locale: string | null };
}

/** A case as listed and shown by the API. */
export interface CaseRecord {
  id: string;
  status: CaseStatus;
  segment: string | null;
  currency: string;
  principalMinor: bigint;
  balanceMinor: bigint;
  contractStatus: string;
  contractTerminatedAt: Date | null;
  limitationDate: string;
  jurisdiction: string | null;
  openedAt: Date;
  closedAt: Date | null;
  invoiceExternalId: string;
  contractRef: string | null;
  dueDate: string | null;
  dueAt: Date;
  debtorExternalId: string;
  timezone: string;
  policyKey: string;
  policyVersion: number;
  money: CaseMoney;
}

export interface LetterSummary {
  id: string;
  number: string;
  type: string;
  recipientRole: 'debtor' | 'guarantor';
  recipientName: string;
  sha256: string;
  emailStatus: string | null;
  postStatus: string | null;
  trackingNumber: string | null;
  issuedAt: Date;
}

export interface CaseFilter {
  status?: string;
  /** Cases whose limitation date falls before this day (YYYY-MM-DD). */
  limitationBefore?: string;
  /** Days past due at `now`, on each debtor's calendar, within [from, to]. */
  daysPastDue?: { now: Date; from: number; to: number };
  debtorExternalId?: string;
  /** Keyset position: cases opened before this one (newest first). */
  before?: { openedAt: string; id: string };
  limit: number;
}

export interface NewCase {
  id: string;
  invoiceId: string;
  debtorId: string;
  policyVersionId: string;
  segment: string;
  currency: string;
  principalMinor: bigint;
  head: { seq: number; hash: string };
}

const OPEN = `('active', 'on_hold')`;
const LOCKED_COLUMNS = 'id, status, trim(currency) AS currency, balance_minor';

interface LockedRow {
  id: string;
  status: CaseStatus;
  currency: string;
  balance_minor: string;
}

const toLocked = (row: LockedRow): LockedCase => ({ id: row.id, status: row.status, currency: row.currency, balanceMinor: BigInt(row.balance_minor) });

/**
 * What an account is worked out from (domain/account.ts): the principal, the fee terms, the
 * allocation orders, the payments and the fixed charges. Needs cases c, invoices i, debtors d and
 * policy_versions p.
 */
const MONEY_COLUMNS = `c.principal_minor, trim(c.currency) AS currency, i.due_at, d.timezone, i.jurisdiction,
  i.late_fee_rate_per_day::text AS rate_per_day, p.definition->'lateFee' AS late_fee,
  i.payment_allocation AS contract_allocation, p.definition->'paymentAllocation' AS policy_allocation,
  (SELECT COALESCE(json_agg(json_build_object('id', pm.external_id, 'paidAt', pm.paid_at, 'amount', pm.amount_minor::text) ORDER BY pm.paid_at, pm.recorded_at), '[]')
     FROM payments pm WHERE pm.case_id = c.id) AS payments,
  (SELECT COALESCE(json_agg(json_build_object('at', f.assessed_at, 'amount', f.amount_minor::text) ORDER BY f.assessed_at), '[]')
     FROM fee_assessments f WHERE f.case_id = c.id AND f.kind = 'broken-promise') AS charges`;

interface MoneyRow {
  principal_minor: string;
  currency: string;
  due_at: Date;
  timezone: string;
  jurisdiction: string | null;
  rate_per_day: string | null;
  late_fee: { ratePerDay?: string; capRatio?: string } | null;
  contract_allocation: AllocationPart[] | null;
  policy_allocation: AllocationPart[] | null;
  payments: { id: string; paidAt: string; amount: string }[];
  charges: { at: string; amount: string }[];
}

const toMoney = (row: MoneyRow): CaseMoney => ({
  currency: row.currency,
  principalMinor: BigInt(row.principal_minor),
  dueAt: row.due_at,
  timezone: row.timezone,
  invoiceRatePerDay: row.rate_per_day,
  policyLateFee: row.late_fee,
  allocation: { contract: row.contract_allocation, policy: row.policy_allocation, jurisdiction: row.jurisdiction },
  payments: row.payments.map((p) => ({ id: p.id, paidAt: new Date(p.paidAt), amountMinor: BigInt(p.amount) })),
  charges: row.charges.map((c) => ({ at: new Date(c.at), amountMinor: BigInt(c.amount) })),
});

const RECORD_COLUMNS = `c.id, c.status, c.segment, c.balance_minor, c.contract_status, ${MONEY_COLUMNS},
  c.contract_terminated_at, to_char(i.limitation_date, 'YYYY-MM-DD') AS limitation_date, c.opened_at, c.closed_at,
  i.external_id AS invoice_external_id, i.contract_ref, to_char(i.due_date, 'YYYY-MM-DD') AS due_date,
  d.external_id AS debtor_external_id, p.key AS policy_key, p.version AS policy_version`;
const RECORD_JOINS = `FROM cases c JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id JOIN policy_versions p ON p.id = c.policy_version_id`;

interface RecordRow extends MoneyRow {
  id: string;
  status: CaseStatus;
  segment: string | null;
  balance_minor: string;
  contract_status: string;
  contract_terminated_at: Date | null;
  limitation_date: string;
  opened_at: Date;
  closed_at: Date | null;
  invoice_external_id: string;
  contract_ref: string | null;
  due_date: string | null;
  debtor_external_id: string;
  policy_key: string;
  policy_version: number;
}

const toRecord = (row: RecordRow): CaseRecord => ({
  id: row.id,
  status: row.status,
  segment: row.segment,
  currency: row.currency,
  principalMinor: BigInt(row.principal_minor),
  balanceMinor: BigInt(row.balance_minor),
  contractStatus: row.contract_status,
  contractTerminatedAt: row.contract_terminated_at,
  limitationDate: row.limitation_date,
  jurisdiction: row.jurisdiction,
  openedAt: row.opened_at,
  closedAt: row.closed_at,
  invoiceExternalId: row.invoice_external_id,
  contractRef: row.contract_ref,
  dueDate: row.due_date,
  dueAt: row.due_at,
  debtorExternalId: row.debtor_external_id,
  timezone: row.timezone,
  policyKey: row.policy_key,
  policyVersion: row.policy_version,
  money: toMoney(row),
});

interface CommittedRow {
  id: string;
  status: CaseStatus;
  currency: string;
  balance_minor: string;
  paid_minor: string;
  timezone: string;
}

const toCommitted = (row: CommittedRow): CommittedCase => ({
  id: row.id,
  status: row.status,
  currency: row.currency,
  balanceMinor: BigInt(row.balance_minor),
  paidMinor: BigInt(row.paid_minor),
  timezone: row.timezone,
});

interface TermsRow extends MoneyRow {
  id: string;
  status: CaseStatus;
  balance_minor: string;
  contract_status: 'active' | 'terminated';
  invoice_ref: string;
  contract_ref: string | null;
  contract_date: string | null;
  due_date: string | null;
  debtor_id: string;
  debtor_name: string;
  debtor_email: string | null;
  debtor_address: Record<string, string> | null;
  locale: string | null;
}

/** Cases: the aggregate root every case change locks first (its row is the audit chain's writer lock). */
@Injectable()
export class CaseRepository extends SqlRepository {
  /** Locks a case; undefined when there is no such case. */
  async lock(tx: Tx, id: string): Promise<LockedCase | undefined> {
    const row = await this.row<LockedRow>(tx, `SELECT ${LOCKED_COLUMNS} FROM cases WHERE id = $1 FOR UPDATE`, [id]);
    return row && toLocked(row);
  }

  /** Locks the open case of an invoice, with what payments and promises need. */
  async lockOpenOfInvoice(tx: Tx, invoiceExternalId: string): Promise<CommittedCase | undefined> {
    const row = await this.row<CommittedRow>(
      tx,
      `SELECT c.id, c.status, trim(c.currency) AS currency, c.balance_minor, c.paid_minor, d.timezone
       FROM cases c JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id
       WHERE i.external_id = $1 AND c.status IN ${OPEN} FOR UPDATE OF c`,
      [invoiceExternalId],
    );
    return row && toCommitted(row);
  }

  /** Locks a case with what promises and plans need. */
  async lockCommitted(tx: Tx, id: string): Promise<CommittedCase | undefined> {
    const row = await this.row<CommittedRow>(
      tx,
      `SELECT c.id, c.status, trim(c.currency) AS currency, c.balance_minor, c.paid_minor, d.timezone
       FROM cases c JOIN debtors d ON d.id = c.debtor_id WHERE c.id = $1 FOR UPDATE OF c`,
      [id],
    );
    return row && toCommitted(row);
  }

  /** Locks a case and reads its terms: amounts, invoice, fee terms, debtor. */
  async lockTerms(tx: Tx, id: string): Promise<CaseTerms | undefined> {
    const row = await this.row<TermsRow>(
      tx,
      `SELECT c.id, c.status, c.balance_minor, c.contract_status, ${MONEY_COLUMNS},
         i.external_id AS invoice_ref, i.contract_ref, to_char(i.contract_date, 'YYYY-MM-DD') AS contract_date,
         to_char(i.due_date, 'YYYY-MM-DD') AS due_date,
         d.id AS debtor_id, d.name AS debtor_name, d.email AS debtor_email, d.address AS debtor_address, d.locale
       FROM cases c JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id JOIN policy_versions p ON p.id = c.policy_version_id
       WHERE c.id = $1 FOR UPDATE OF c`,
      [id],
    );
    if (!row) return undefined;
    return {
      id: row.id,
      status: row.status,
      currency: row.currency,
      principalMinor: BigInt(row.principal_minor),
      balanceMinor: BigInt(row.balance_minor),
      contractStatus: row.contract_status,
      invoiceRef: row.invoice_ref,
      contractRef: row.contract_ref,
      contractDate: row.contract_date,
      dueDate: row.due_date,
      dueAt: row.due_at,
      timezone: row.timezone,
      jurisdiction: row.jurisdiction,
      money: toMoney(row),
      debtor: { id: row.debtor_id, name: row.debtor_name, email: row.debtor_email, address: row.debtor_address, locale: row.locale },
    };
  }

  /** The case's money, read in the caller's transaction (which holds the case lock when it acts on it); concurrent reads are gathered. */
  money(tx: Tx | undefined, id: string): Promise<CaseMoney | undefined> {
    return this.moneys.call(tx, id);
  }

  private readonly moneys = new Gather<string, CaseMoney | undefined>(async (tx, ids) => {
    const rows = await this.rows<MoneyRow & { n: string }>(
      tx,
      `SELECT want.n, ${MONEY_COLUMNS} FROM unnest($1::uuid[]) WITH ORDINALITY AS want(id, n) JOIN cases c ON c.id = want.id
         JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id JOIN policy_versions p ON p.id = c.policy_version_id`,
      [ids],
    );
    const moneys: (CaseMoney | undefined)[] = ids.map(() => undefined);
    for (const row of rows) moneys[Number(row.n) - 1] = toMoney(row);
    return moneys;
  }, String);

  /** Locks a debtor's open cases, in id order (the order every writer of several cases keeps). */
  async lockOpenOfDebtor(tx: Tx, debtorId: string): Promise<LockedCase[]> {
    const rows = await this.rows<LockedRow>(tx, `SELECT ${LOCKED_COLUMNS} FROM cases WHERE debtor_id = $1 AND status IN ${OPEN} ORDER BY id FOR UPDATE`, [
      debtorId,
    ]);
    return rows.map(toLocked);
  }

  /** Locks the given cases in id order. */
  async lockMany(tx: Tx, ids: readonly string[]): Promise<LockedCase[]> {
    const rows = await this.rows<LockedRow>(tx, `SELECT ${LOCKED_COLUMNS} FROM cases WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [ids]);
    return rows.map(toLocked);
  }

  /** The open case of an invoice, unlocked (the caller holds the invoice's event lane). */
  async openOfInvoice(tx: Tx, invoiceExternalId: string): Promise<string | undefined> {
    const row = await this.row<{ id: string }>(
      tx,
      `SELECT c.id FROM cases c JOIN invoices i ON i.id = c.invoice_id WHERE i.external_id = $1 AND c.status IN ${OPEN}`,
      [invoiceExternalId],
    );
    return row?.id;
  }

  /** Which of these invoices have an open case. */
  async invoicesWithOpenCase(tx: Tx, invoiceExternalIds: readonly string[]): Promise<Set<string>> {
    const rows = await this.rows<{ external_id: string }>(
      tx,
      `SELECT i.external_id FROM cases c JOIN invoices i ON i.id = c.invoice_id WHERE i.external_id = ANY($1::text[]) AND c.status IN ${OPEN}`,
      [invoiceExternalIds],
    );
    return new Set(rows.map((row) => row.external_id));
  }

  /** Which of these debtors had a case before. */
  async debtorsWithCases(tx: Tx, debtorIds: readonly string[]): Promise<Set<string>> {
    const rows = await this.rows<{ debtor_id: string }>(tx, 'SELECT DISTINCT debtor_id FROM cases WHERE debtor_id = ANY($1::uuid[])', [debtorIds]);
    return new Set(rows.map((row) => row.debtor_id));
  }

  /** Inserts new, active cases with their audit heads already set. */
  async insertMany(tx: Tx, cases: readonly NewCase[], at: Date): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO cases (id, invoice_id, debtor_id, policy_version_id, status, segment, currency, principal_minor, balance_minor,
         opened_at, updated_at, touch_seq, touch_hash)
       SELECT id, invoice_id, debtor_id, policy_version_id, 'active', segment, currency, principal, principal, $10::timestamptz, $10::timestamptz, touch_seq, touch_hash
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::bigint[], $8::int[], $9::text[])
         AS opened(id, invoice_id, debtor_id, policy_version_id, segment, currency, principal, touch_seq, touch_hash)`,
      [
        cases.map((c) => c.id),
        cases.map((c) => c.invoiceId),
        cases.map((c) => c.debtorId),
        cases.map((c) => c.policyVersionId),
        cases.map((c) => c.segment),
        cases.map((c) => c.currency),
        cases.map((c) => c.principalMinor.toString()),
        cases.map((c) => c.head.seq),
        cases.map((c) => c.head.hash),
        at,
      ],
    );
  }

  /** A paused case: on hold since `at`. */
  async hold(tx: Tx, id: string, at: Date): Promise<void> {
    await this.run(tx, `UPDATE cases SET status = 'on_hold', held_since = $2, updated_at = $2 WHERE id = $1`, [id, at]);
  }

  async resume(tx: Tx, id: string, at: Date): Promise<void> {
    await this.run(tx, `UPDATE cases SET status = 'active', held_since = NULL, updated_at = $2 WHERE id = $1`, [id, at]);
  }

  async close(tx: Tx, id: string, status: ClosingStatus, at: Date): Promise<void> {
    await this.run(tx, `UPDATE cases SET status = $2, closed_at = $3, held_since = NULL, updated_at = $3 WHERE id = $1`, [id, status, at]);
  }

  /** Lowers the balance by a payment and counts it as paid; returns the case as commitments see it. */
  async applyPayment(tx: Tx, id: string, balanceMinor: bigint, amountMinor: bigint, at: Date): Promise<CommittedCase> {
    const [row] = await this.changed<CommittedRow>(
      tx,
      `UPDATE cases c SET balance_minor = $2, paid_minor = paid_minor + $4::bigint, updated_at = $3 FROM debtors d WHERE c.id = $1 AND d.id = c.debtor_id
       RETURNING c.id, c.status, trim(c.currency) AS currency, c.balance_minor, c.paid_minor, d.timezone`,
      [id, balanceMinor.toString(), at, amountMinor.toString()],
    );
    if (!row) throw new Error(`case ${id} does not exist`);
    return toCommitted(row);
  }

  async terminateContract(tx: Tx, id: string, at: Date): Promise<void> {
    await this.run(tx, `UPDATE cases SET contract_status = 'terminated', contract_terminated_at = $2, updated_at = $2 WHERE id = $1`, [id, at]);
  }

  /** What the case's policy says a broken promise costs and leads to. */
  /** A block of the case's policy as its file states it (a broken promise's rule, the self-service bounds); null when the policy has none. */
  async policyBlock<K extends 'brokenPromise' | 'selfService'>(tx: Tx | undefined, id: string, key: K): Promise<PolicyDefinition[K] | null> {
    const row = await this.row<{ block: PolicyDefinition[K] | null }>(
      tx,
      `SELECT p.definition->$2 AS block FROM cases c JOIN policy_versions p ON p.id = c.policy_version_id WHERE c.id = $1`,
      [id, key],
    );
    return row?.block ?? null;
  }

  /** The case's letters, oldest first, as the case detail lists them. */
  letters(id: string): Promise<LetterSummary[]> {
    return this.rows(
      undefined,
      `SELECT id, number, type, recipient_role AS "recipientRole", recipient_name AS "recipientName", sha256, email_status AS "emailStatus",
         post_status AS "postStatus", tracking_number AS "trackingNumber", issued_at AS "issuedAt"
       FROM letters WHERE case_id = $1 ORDER BY issued_at, number`,
      [id],
    );
  }

  async exists(id: string): Promise<boolean> {
    return Boolean(await this.row(undefined, 'SELECT 1 FROM cases WHERE id = $1', [id]));
  }

  async get(id: string): Promise<CaseRecord | undefined> {
    const row = await this.row<RecordRow>(undefined, `SELECT ${RECORD_COLUMNS} ${RECORD_JOINS} WHERE c.id = $1`, [id]);
    return row && toRecord(row);
  }

  /** Newest first; `limit` rows at most; on the replica, so it may lag the primary (a search, not a read-back). */
  async list(filter: CaseFilter): Promise<CaseRecord[]> {
    const where = new Conditions();
    if (filter.status) where.add('c.status = ?', filter.status);
    if (filter.debtorExternalId) where.add('d.external_id = ?', filter.debtorExternalId);
    if (filter.limitationBefore) where.add('i.limitation_date < ?::date', filter.limitationBefore);
    const { now, from, to } = filter.daysPastDue ?? { now: null, from: -Infinity, to: Infinity };
    if (Number.isFinite(from) || Number.isFinite(to)) {
      const dpd = `days_past_due(${where.param(now)}::timestamptz, i.due_at, d.timezone)`;
      if (Number.isFinite(from)) where.add(`${dpd} >= ?`, from);
      if (Number.isFinite(to)) where.add(`${dpd} <= ?`, to);
    }
    if (filter.before) where.add('(c.opened_at, c.id) < (?, ?)', filter.before.openedAt, filter.before.id);
    const rows = await this.lagging<RecordRow>(
      `SELECT ${RECORD_COLUMNS} ${RECORD_JOINS} ${where.where} ORDER BY c.opened_at DESC, c.id DESC LIMIT ${where.param(filter.limit)}`,
      where.params,
    );
    return rows.map(toRecord);
  }
}
