import { Injectable } from '@nestjs/common';
import { Conditions } from '../database/sql';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import type { WorkItemKind, WorkItemOutcome, WorkItemStatus } from '../domain/escalations';

export interface WorkItemFilter {
  assignee?: string;
  status?: WorkItemStatus;
  kind?: WorkItemKind;
  caseId?: string;
  after?: { createdAt: string; id: string };
  limit: number;
}

/** A work item as a person acting on it needs it, locked. */
export interface LockedWorkItem {
  id: string;
  caseId: string;
  kind: WorkItemKind;
  status: WorkItemStatus;
  assignee: string | null;
  outcome: WorkItemOutcome | null;
  note: string | null;
  promise: { amount: string; currency: string; dueDate: string } | null;
  currency: string;
  timezone: string;
}

/** A work item as the API shows it, with its case. */
export interface WorkItemView {
  id: string;
  caseId: string;
  stepId: string | null;
  kind: WorkItemKind;
  status: WorkItemStatus;
  assignee: string | null;
  reason: string;
  createdAt: Date;
  createdBy: string;
  claimedAt: Date | null;
  outcome: WorkItemOutcome | null;
  note: string | null;
  promise: { amount: string; currency: string; dueDate: string } | null;
  completedAt: Date | null;
  case: {
    status: string;
    invoiceExternalId: string;
    contractRef: string | null;
    debtorExternalId: string;
    debtorName: string;
    currency: string;
    balanceMinor: string;
  };
}

const VIEW = `SELECT w.id, w.case_id AS "caseId", w.step_id AS "stepId", w.kind, w.status, w.assignee, w.reason,
  w.created_at AS "createdAt", w.created_by AS "createdBy", w.claimed_at AS "claimedAt",
  w.outcome, w.note, w.promise, w.completed_at AS "completedAt",
  json_build_object('status', c.status, 'invoiceExternalId', i.external_id, 'contractRef', i.contract_ref,
    'debtorExternalId', d.external_id, 'debtorName', d.name, 'currency', trim(c.currency), 'balanceMinor', c.balance_minor::text) AS case
  FROM work_items w JOIN cases c ON c.id = w.case_id JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id`;

/** Work items: a collector's or legal review's part of a case. */
@Injectable()
export class WorkItemRepository extends SqlRepository {
  /** The item this step made, else the case's unfinished item of this kind: one per case and kind at a time. */
  async findForEscalation(tx: Tx, caseId: string, stepId: string | null, kind: WorkItemKind): Promise<string | undefined> {
    const row = await this.row<{ id: string }>(
      tx,
      `SELECT id FROM work_items WHERE case_id = $1 AND (step_id = $2 OR (kind = $3 AND status <> 'done'))
       ORDER BY (step_id IS NOT DISTINCT FROM $2) DESC, created_at LIMIT 1`,
      [caseId, stepId, kind],
    );
    return row?.id;
  }

  async insert(tx: Tx, item: { id: string; caseId: string; stepId: string | null; kind: WorkItemKind; reason: string; at: Date; by: string }): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO work_items (id, case_id, step_id, kind, status, reason, created_at, created_by) VALUES ($1, $2, $3, $4, 'open', $5, $6, $7)`,
      [item.id, item.caseId, item.stepId, item.kind, item.reason, item.at, item.by],
    );
  }

  /** The case a work item belongs to (to lock it first). */
  async caseOf(tx: Tx, id: string): Promise<string | undefined> {
    return (await this.row<{ case_id: string }>(tx, 'SELECT case_id FROM work_items WHERE id = $1', [id]))?.case_id;
  }

  /** Locks the item; the caller holds its case's lock. */
  lock(tx: Tx, id: string): Promise<LockedWorkItem | undefined> {
    return this.row(
      tx,
      `SELECT w.id, w.case_id AS "caseId", w.kind, w.status, w.assignee, w.outcome, w.note, w.promise, trim(c.currency) AS currency, d.timezone
       FROM work_items w JOIN cases c ON c.id = w.case_id JOIN debtors d ON d.id = c.debtor_id WHERE w.id = $1 FOR UPDATE OF w`,
      [id],
    );
  }

  async claim(tx: Tx, id: string, assignee: string, at: Date): Promise<void> {
    await this.run(tx, `UPDATE work_items SET status = 'claimed', assignee = $2, claimed_at = $3 WHERE id = $1`, [id, assignee, at]);
  }

  async complete(tx: Tx, id: string, report: { outcome: WorkItemOutcome; note: string | null; promise: LockedWorkItem['promise'] }, at: Date): Promise<void> {
    await this.run(tx, `UPDATE work_items SET status = 'done', outcome = $2, note = $3, promise = $4, completed_at = $5 WHERE id = $1`, [
      id,
      report.outcome,
      report.note,
      report.promise === null ? null : JSON.stringify(report.promise),
      at,
    ]);
  }

  get(tx: Tx | undefined, id: string): Promise<WorkItemView | undefined> {
    return this.row(tx, `${VIEW} WHERE w.id = $1`, [id]);
  }

  /** Oldest first: the queue is worked in the order cases were escalated. */
  list(filter: WorkItemFilter): Promise<WorkItemView[]> {
    const where = new Conditions();
    if (filter.assignee) where.add('w.assignee = ?', filter.assignee);
    if (filter.status) where.add('w.status = ?', filter.status);
    if (filter.kind) where.add('w.kind = ?', filter.kind);
    if (filter.caseId) where.add('w.case_id = ?', filter.caseId);
    if (filter.after) where.add('(w.created_at, w.id) > (?, ?)', filter.after.createdAt, filter.after.id);
    return this.rows(undefined, `${VIEW} ${where.where} ORDER BY w.created_at, w.id LIMIT ${where.param(filter.limit)}`, where.params);
  }
}
