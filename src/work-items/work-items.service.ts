import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { CaseRepository } from '../cases/case.repository';
import { Commitments } from '../cases/commitments.service';
import { Clock } from '../common/clock';
import { CURSOR, decodeCursor, pageOf } from '../common/cursor';
import { DomainError, NotFound, ValidationFailed } from '../common/errors';
import { Transactions, type Tx } from '../database/transactions';
import { localDate } from '../domain/calendar';
import { OUTCOMES, type WorkItemKind, type WorkItemOutcome, type WorkItemStatus } from '../domain/escalations';
import { formatMinorUnits, toMinorUnits } from '../domain/money';
import { isOpen } from '../domain/statuses';
import { noQueueEffects } from '../domain/step';
import { type LockedWorkItem, WorkItemRepository, type WorkItemView } from '../escalations/work-item.repository';
import { StepScheduler } from '../scheduling/step-scheduler.service';

export interface WorkItemQuery {
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
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly commitments: Commitments,
    private readonly scheduler: StepScheduler,
    private readonly cases: CaseRepository,
    private readonly items: WorkItemRepository,
  ) {}

  /** Oldest first: the queue is worked in the order cases were escalated. */
  async list(query: WorkItemQuery) {
    const [createdAt, id] = query.cursor ? decodeCursor(query.cursor, CURSOR.instantAndId) : [];
    const rows = await this.items.list({
      assignee: query.assignee,
      status: query.status,
      kind: query.kind,
      caseId: query.caseId,
      after: createdAt !== undefined && id !== undefined ? { createdAt, id } : undefined,
      limit: query.limit + 1,
    });
    const { page, nextCursor } = pageOf(rows, query.limit, (last) => [last.createdAt.toISOString(), last.id]);
    return { items: page.map(present), nextCursor };
  }

  async get(id: string, tx?: Tx): Promise<WorkItemDetail> {
    const row = await this.items.get(tx, id);
    if (!row) throw new NotFound('work item', id);
    return present(row);
  }

  /**
   * Takes an open item for `assignee`. Claiming again for the same assignee changes nothing;
   * an item someone else holds, or one already done, is a conflict.
   */
  async claim(id: string, assignee: string, actor: string): Promise<WorkItemDetail> {
    return this.transactions.run(async (tx) => {
      const item = await this.lock(tx, id);
      if (item.status === 'done') throw new DomainError('conflict', `work item ${id} is done (${item.outcome}); it cannot be claimed`);
      if (item.status === 'claimed') {
        if (item.assignee === assignee) return this.get(id, tx);
        throw new DomainError('conflict', `work item ${id} is claimed by ${item.assignee}`, [
          { field: 'assignee', reason: `the item is held by ${item.assignee}` },
        ]);
      }
      await this.items.claim(tx, id, assignee, this.clock.now());
      await this.audit.record(tx, item.caseId, [{ kind: 'work-item.claimed', actor, data: { workItemId: id, kind: item.kind, assignee } }]);
      return this.get(id, tx);
    });
  }

  /**
   * Records what the assignee achieved and closes the item; the same report again changes
   * nothing. A `promised` outcome is the case's promise to pay, like any other: it pauses the ladder.
   */
  async complete(id: string, report: OutcomeReport, actor: string): Promise<WorkItemDetail> {
    const effects = noQueueEffects();
    const completed = await this.transactions.run(async (tx) => {
      const item = await this.lock(tx, id);
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
        return this.get(id, tx);
      }
      const promise = report.promise ? this.promise(item, report.promise) : null;
      await this.items.complete(tx, id, { outcome: report.outcome, note, promise }, this.clock.now());
      const data = { workItemId: id, kind: item.kind, assignee: item.assignee, outcome: report.outcome, note, ...(promise ? { promise } : {}) };
      await this.audit.record(tx, item.caseId, [{ kind: 'work-item.completed', actor, data }]);
      const kase = promise ? await this.cases.lockCommitted(tx, item.caseId) : undefined;
      if (promise && kase && isOpen(kase.status)) {
        // The commitment names its own fields (amount, dueDate); here they sit under body.promise.
        const taken = await this.commitments.promise(tx, kase, promise.amount, promise.dueDate, actor, `work item ${id}`, effects).catch((error: unknown) => {
          throw error instanceof DomainError ? error.within('body.promise') : error;
        });
        await this.audit.record(tx, item.caseId, taken.touches);
      }
      return this.get(id, tx);
    });
    await this.scheduler.apply(effects);
    return completed;
  }

  private sameReport(item: LockedWorkItem, outcome: string, note: string | null, promise: OutcomeReport['promise']): boolean {
    if (item.outcome !== outcome || item.note !== note) return false;
    if (!item.promise || !promise) return !item.promise && !promise;
    return toMinorUnits(item.promise.amount, item.currency) === toMinorUnits(promise.amount, item.currency) && item.promise.dueDate === promise.dueDate;
  }

  /** The case first, as every audit writer locks it, then the item. */
  private async lock(tx: Tx, id: string): Promise<LockedWorkItem> {
    const caseId = await this.items.caseOf(tx, id);
    if (!caseId) throw new NotFound('work item', id);
    await this.audit.lockHead(tx, caseId);
    return (await this.items.lock(tx, id))!;
  }

  /** The promise in the case's currency, due today or later on the debtor's calendar. */
  private promise(item: LockedWorkItem, promise: { amount: string; dueDate: string }): NonNullable<LockedWorkItem['promise']> {
    const amountMinor = toMinorUnits(promise.amount, item.currency);
    if (amountMinor === null || amountMinor <= 0n) {
      throw new ValidationFailed([{ field: 'body.promise.amount', reason: `must be a positive amount in ${item.currency} such as "100.00"` }]);
    }
    const today = localDate(this.clock.now(), item.timezone);
    if (promise.dueDate < today) {
      throw new ValidationFailed([{ field: 'body.promise.dueDate', reason: `must be today (${today} for the debtor) or later` }]);
    }
    return { amount: formatMinorUnits(amountMinor, item.currency), currency: item.currency, dueDate: promise.dueDate };
  }
}
