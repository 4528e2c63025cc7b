import { Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { decodeCursor, pageOf } from '../common/cursor';
import { DomainError, NotFound, ValidationFailed } from '../common/errors';
import { formatMinorUnits, toMinorUnits } from '../domain/money';
import { Conditions } from '../database/sql';
import type { QueueEffects } from '../cases/case-holds.service';
import { Commitments } from '../cases/commitments.service';
import { StepScheduler } from '../scheduling/step-scheduler.service';

export const WORK_ITEM_KINDS = ['collector', 'legal'] as const;
export type WorkItemKind = (typeof WORK_ITEM_KINDS)[number];
export const WORK_ITEM_STATUSES = ['open', 'claimed', 'done'] as const;
export type WorkItemStatus = (typeof WORK_ITEM_STATUSES)[number];

/** What a person may report per kind of work item (the migration's CHECK says the same). */
export const OUTCOMES = {
  collector: ['contacted', 'promised', 'refused', 'unreachable', 'wrong-party'],
  legal: ['filed', 'settled', 'closed'],
} as const satisfies Record<WorkItemKind, readonly string[]>;
export type WorkItemOutcome = (typeof OUTCOMES)[WorkItemKind][number];
export const ALL_OUTCOMES = [...OUTCOMES.collector, ...OUTCOMES.legal] as const;

export interface WorkItemFilter {
  assignee?: string;
  status?: WorkItemStatus;
  kind?: WorkItemKind;
  caseId?: string;
  cursor?: string;
  limit: number;
}

export interface OutcomeReport {
  outcome: WorkItemOutcome;
  note?: string;
  /** Required with `promised`, refused otherwise (the controller's schema checks both). */
  promise?: { amount: string; dueDate: string };
  /** Who reports; the caller's key name by default. Must be the assignee. */
  assignee?: string;
}

/** A promise to pay taken by a collector, for the promise-to-pay feature to act on. */
export interface PromiseTaken {
  caseId: string;
  workItemId: string;
  amount: string;
  amountMinor: bigint;
  currency: string;
  dueDate: string;
  takenBy: string;
}

interface WorkItemRow {
  id: string;
  case_id: string;
  kind: WorkItemKind;
  status: WorkItemStatus;
  assignee: string | null;
  outcome: WorkItemOutcome | null;
  note: string | null;
  promise: { amount: string; currency: string; dueDate: string } | null;
  currency: string;
  timezone: string;
}

interface WorkItemView {
  id: string;
  createdAt: Date;
  case: { balanceMinor: string; currency: string } & Record<string, unknown>;
  [field: string]: unknown;
}

const WORK_ITEM_VIEW = `w.id, w.case_id AS "caseId", w.step_id AS "stepId", w.kind, w.status, w.assignee, w.reason,
  w.created_at AS "createdAt", w.created_by AS "createdBy", w.claimed_at AS "claimedAt",
  w.outcome, w.note, w.promise, w.completed_at AS "completedAt",
  json_build_object('status', c.status, 'invoiceExternalId', i.external_id, 'contractRef', i.contract_ref,
    'debtorExternalId', d.external_id, 'debtorName', d.name, 'currency', trim(c.currency), 'balanceMinor', c.balance_minor::text) AS case`;
const WORK_ITEM_FROM = 'FROM work_items w JOIN cases c ON c.id = w.case_id JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id';

/** The balance as a decimal string, as the API speaks money. */
function present(row: WorkItemView) {
  const { balanceMinor, ...kase } = row.case;
  return { ...row, case: { ...kase, balance: formatMinorUnits(BigInt(balanceMinor), kase.currency) } };
}

export type WorkItemDetail = ReturnType<typeof present>;

/** The people's side of escalations: the work queue, claiming an item, and reporting its outcome. */
@Injectable()
export class WorkItems {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly commitments: Commitments,
    private readonly scheduler: StepScheduler,
  ) {}

  /** Oldest first: the queue is worked in the order cases were escalated. */
  async list(filter: WorkItemFilter) {
    const where = new Conditions();
    if (filter.assignee) where.add('w.assignee = ?', filter.assignee);
    if (filter.status) where.add('w.status = ?', filter.status);
    if (filter.kind) where.add('w.kind = ?', filter.kind);
    if (filter.caseId) where.add('w.case_id = ?', filter.caseId);
    if (filter.cursor) where.add('(w.created_at, w.id) > (?, ?)', ...decodeCursor<[string, string]>(filter.cursor, 2));
    const rows: WorkItemView[] = await this.dataSource.query(
      `SELECT ${WORK_ITEM_VIEW} ${WORK_ITEM_FROM} ${where.where} ORDER BY w.created_at, w.id LIMIT ${filter.limit + 1}`,
      where.params,
    );
    const { page, nextCursor } = pageOf(rows, filter.limit, (last) => [last.createdAt.toISOString(), last.id]);
    return { items: page.map(present), nextCursor };
  }

  async get(id: string, m: EntityManager = this.dataSource.manager) {
    const [row]: WorkItemView[] = await m.query(`SELECT ${WORK_ITEM_VIEW} ${WORK_ITEM_FROM} WHERE w.id = $1`, [id]);
    if (!row) throw new NotFound('work item', id);
    return present(row);
  }

  /**
   * Takes an open item for `assignee`. Claiming again for the same assignee changes nothing;
   * an item someone else holds, or one already done, is a conflict.
   */
  async claim(id: string, assignee: string, actor: string) {
    return this.dataSource.transaction(async (m) => {
      const item = await this.lock(m, id);
      if (item.status === 'done') throw new DomainError('conflict', `work item ${id} is done (${item.outcome}); it cannot be claimed`);
      if (item.status === 'claimed') {
        if (item.assignee === assignee) return this.get(id, m);
        throw new DomainError('conflict', `work item ${id} is claimed by ${item.assignee}`, [
          { field: 'assignee', reason: `the item is held by ${item.assignee}` },
        ]);
      }
      await m.query(`UPDATE work_items SET status = 'claimed', assignee = $2, claimed_at = $3 WHERE id = $1`, [id, assignee, this.clock.now()]);
      await this.audit.record(m, item.case_id, [{ kind: 'work-item.claimed', actor, data: { workItemId: id, kind: item.kind, assignee } }]);
      return this.get(id, m);
    });
  }

  /**
   * Records what the assignee achieved and closes the item. The same report again changes nothing
   * (`recorded: false`). `promise` is the promise taken by this call, for the promise-to-pay
   * feature to act on; null when none was taken or the report was a repeat.
   */
  async complete(id: string, report: OutcomeReport, actor: string): Promise<{ item: WorkItemDetail; promise: PromiseTaken | null; recorded: boolean }> {
    const effects: QueueEffects = { enqueue: [], withdraw: [] };
    const completed = await this.dataSource.transaction(async (m) => {
      const item = await this.lock(m, id);
      const reporter = report.assignee ?? actor;
      const allowed: readonly string[] = OUTCOMES[item.kind];
      if (!allowed.includes(report.outcome)) {
        throw new ValidationFailed([{ field: 'body.outcome', reason: `must be one of ${allowed.join(', ')} for a ${item.kind} work item` }]);
      }
      if (item.status === 'open') throw new DomainError('conflict', `work item ${id} is not claimed; claim it before reporting an outcome`);
      if (item.assignee !== reporter) {
        throw new DomainError('conflict', `work item ${id} is held by ${item.assignee}; only the assignee reports its outcome`, [
          { field: 'assignee', reason: `must be ${item.assignee}` },
        ]);
      }
      const note = report.note ?? null;
      if (item.status === 'done') {
        if (!this.sameReport(item, report.outcome, note, report.promise)) {
          throw new DomainError('conflict', `work item ${id} is already done with outcome ${item.outcome}`);
        }
        return { item: await this.get(id, m), promise: null, recorded: false };
      }
      const promise = report.promise ? this.promise(item, report.promise) : null;
      const stored = promise ? { amount: promise.amount, currency: promise.currency, dueDate: promise.dueDate } : null;
      await m.query(`UPDATE work_items SET status = 'done', outcome = $2, note = $3, promise = $4, completed_at = $5 WHERE id = $1`, [
        id,
        report.outcome,
        note,
        stored === null ? null : JSON.stringify(stored),
        this.clock.now(),
      ]);
      const data = { workItemId: id, kind: item.kind, assignee: item.assignee, outcome: report.outcome, note, ...(stored ? { promise: stored } : {}) };
      await this.audit.record(m, item.case_id, [{ kind: 'work-item.completed', actor, data }]);
      // A promise the collector took is a promise to pay like any other: it pauses the ladder.
      const kase = promise ? await this.commitments.lockCase(m, item.case_id) : undefined;
      if (promise && kase && (kase.status === 'active' || kase.status === 'on_hold')) {
        const taken = await this.commitments.promise(m, kase, promise.amount, promise.dueDate, actor, `work item ${id}`, effects);
        await this.audit.record(m, item.case_id, taken.touches);
      }
      return { item: await this.get(id, m), promise, recorded: true };
    });
    await this.scheduler.withdraw(effects.withdraw);
    await this.scheduler.enqueue(effects.enqueue);
    return completed;
  }

  private sameReport(item: WorkItemRow, outcome: string, note: string | null, promise: OutcomeReport['promise']): boolean {
    if (item.outcome !== outcome || item.note !== note) return false;
    if (!item.promise || !promise) return !item.promise && !promise;
    return toMinorUnits(item.promise.amount, item.currency) === toMinorUnits(promise.amount, item.currency) && item.promise.dueDate === promise.dueDate;
  }

  /** The case first, as every audit writer locks it, then the item. */
  private async lock(m: EntityManager, id: string): Promise<WorkItemRow> {
    const [owner]: { case_id: string }[] = await m.query('SELECT case_id FROM work_items WHERE id = $1', [id]);
    if (!owner) throw new NotFound('work item', id);
    await m.query('SELECT 1 FROM cases WHERE id = $1 FOR UPDATE', [owner.case_id]);
    const [item]: WorkItemRow[] = await m.query(
      `SELECT w.id, w.case_id, w.kind, w.status, w.assignee, w.outcome, w.note, w.promise, trim(c.currency) AS currency, d.timezone
       FROM work_items w JOIN cases c ON c.id = w.case_id JOIN debtors d ON d.id = c.debtor_id WHERE w.id = $1 FOR UPDATE OF w`,
      [id],
    );
    return item;
  }

  /** The promise in the case's currency, due today or later on the debtor's calendar. */
  private promise(item: WorkItemRow, promise: { amount: string; dueDate: string }): PromiseTaken {
    const amountMinor = toMinorUnits(promise.amount, item.currency);
    if (amountMinor === null || amountMinor <= 0n) {
      throw new ValidationFailed([{ field: 'body.promise.amount', reason: `must be a positive amount in ${item.currency} such as "100.00"` }]);
    }
    const today = DateTime.fromJSDate(this.clock.now(), { zone: item.timezone }).toISODate()!;
    if (promise.dueDate < today) {
      throw new ValidationFailed([{ field: 'body.promise.dueDate', reason: `must be today (${today} for the debtor) or later` }]);
    }
    return {
      caseId: item.case_id,
      workItemId: item.id,
      amount: formatMinorUnits(amountMinor, item.currency),
      amountMinor,
      currency: item.currency,
      dueDate: promise.dueDate,
      takenBy: item.assignee ?? '',
    };
  }
}
