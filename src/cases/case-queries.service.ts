import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { Conditions } from '../database/sql';
import { decodeCursor, pageOf } from '../common/cursor';
import { NotFound } from '../common/errors';
import { formatMinorUnits } from '../domain/money';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { localDate } from '../letters/case-terms';
import { trimRate } from '../domain/late-fee';
import { guaranteeStatus } from '../domain/legal-clocks';
import { daysPastDue, daysPastDueSql, Stage, STAGE_DAYS, stageFor } from '../domain/ladder';

export interface CaseFilter {
  status?: string;
  /** Cases whose limitation date falls before this day (YYYY-MM-DD): at risk of becoming unenforceable. */
  limitationBefore?: string;
  stage?: Stage;
  debtorExternalId?: string;
  cursor?: string;
  limit: number;
}

interface CaseRow {
  id: string;
  status: string;
  segment: string | null;
  currency: string;
  principal_minor: string;
  balance_minor: string;
  fees_minor: string;
  contract_status: string;
  contract_terminated_at: Date | null;
  limitation_date: string;
  jurisdiction: string | null;
  opened_at: Date;
  closed_at: Date | null;
  invoice_external_id: string;
  contract_ref: string | null;
  due_date: string | null;
  due_at: Date;
  debtor_external_id: string;
  timezone: string;
  policy_key: string;
  policy_version: number;
}

const CASE_COLUMNS = `c.id, c.status, c.segment, c.currency, c.principal_minor, c.balance_minor, c.fees_minor, c.contract_status, c.contract_terminated_at,
  to_char(i.limitation_date, 'YYYY-MM-DD') AS limitation_date, i.jurisdiction, c.opened_at, c.closed_at,
  i.external_id AS invoice_external_id, i.contract_ref, to_char(i.due_date, 'YYYY-MM-DD') AS due_date, i.due_at,
  d.external_id AS debtor_external_id, d.timezone, p.key AS policy_key, p.version AS policy_version`;
const CASE_JOINS = `FROM cases c JOIN invoices i ON i.id = c.invoice_id JOIN debtors d ON d.id = c.debtor_id JOIN policy_versions p ON p.id = c.policy_version_id`;

/** Read side of cases: lists, detail with schedule, and the audit trail. */
@Injectable()
export class CaseQueries {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async list(filter: CaseFilter) {
    const where = new Conditions();
    if (filter.status) where.add('c.status = ?', filter.status);
    if (filter.debtorExternalId) where.add('d.external_id = ?', filter.debtorExternalId);
    if (filter.limitationBefore) where.add('i.limitation_date < ?::date', filter.limitationBefore);
    if (filter.stage) {
      const [from, to] = STAGE_DAYS[filter.stage];
      const dpd = daysPastDueSql(`${where.param(this.clock.now())}::timestamptz`, 'i.due_at', 'd.timezone');
      if (Number.isFinite(from)) where.add(`${dpd} >= ?`, from);
      if (Number.isFinite(to)) where.add(`${dpd} <= ?`, to);
    }
    if (filter.cursor) where.add('(c.opened_at, c.id) < (?, ?)', ...decodeCursor<[string, string]>(filter.cursor, 2));
    const rows: CaseRow[] = await this.dataSource.query(
      `SELECT ${CASE_COLUMNS} ${CASE_JOINS} ${where.where} ORDER BY c.opened_at DESC, c.id DESC LIMIT ${filter.limit + 1}`,
      where.params,
    );
    const { page, nextCursor } = pageOf(rows, filter.limit, (last) => [last.opened_at.toISOString(), last.id]);
    return { items: page.map((row) => this.toCase(row)), nextCursor };
  }

  async detail(id: string) {
    const [row]: CaseRow[] = await this.dataSource.query(`SELECT ${CASE_COLUMNS} ${CASE_JOINS} WHERE c.id = $1`, [id]);
    if (!row) throw new NotFound('case', id);
    const [holds, schedule, guarantors, letters, fees] = await Promise.all([
      this.dataSource.query(
        `SELECT id, kind, reason, placed_at AS "placedAt", placed_by AS "placedBy", released_at AS "releasedAt", released_by AS "releasedBy"
         FROM holds WHERE case_id = $1 ORDER BY placed_at`,
        [id],
      ),
      this.dataSource.query(
        `SELECT id, step_index AS index, definition, due_at AS "dueAt", status, outcome, attempts, last_error AS "lastError", finished_at AS "finishedAt"
         FROM scheduled_steps WHERE case_id = $1 ORDER BY step_index`,
        [id],
      ),
      this.dataSource.query(
        `SELECT id, external_id AS "externalId", name, to_char(guarantee_ends_on, 'YYYY-MM-DD') AS "guaranteeEndsOn",
           to_char(notified_on, 'YYYY-MM-DD') AS "notifiedOn", warned_at AS "warnedAt"
         FROM guarantors WHERE case_id = $1 ORDER BY created_at, external_id`,
        [id],
      ),
      this.dataSource.query(
        `SELECT id, number, type, recipient_role AS "recipientRole", recipient_name AS "recipientName", sha256, email_status AS "emailStatus",
           post_status AS "postStatus", tracking_number AS "trackingNumber", issued_at AS "issuedAt"
         FROM letters WHERE case_id = $1 ORDER BY issued_at, number`,
        [id],
      ),
      this.dataSource.query(
        `SELECT id, step_id AS "stepId", assessed_at AS "assessedAt", to_char(as_of, 'YYYY-MM-DD') AS "asOf", days, rate_per_day::text AS "ratePerDay",
           base_minor, accrued_minor, amount_minor
         FROM fee_assessments WHERE case_id = $1 ORDER BY assessed_at, id`,
        [id],
      ),
    ]);
    const currency = row.currency.trim();
    const today = localDate(this.clock.now(), row.timezone);
    const money = (minor: string) => formatMinorUnits(BigInt(minor), currency);
    return {
      ...this.toCase(row),
      holds,
      guarantors: guarantors.map((g: { guaranteeEndsOn: string; notifiedOn: string | null }) => ({
        ...g,
        notifiedInTime: g.notifiedOn !== null && g.notifiedOn <= g.guaranteeEndsOn,
        status: guaranteeStatus(g.guaranteeEndsOn, g.notifiedOn, today, this.config.GUARANTEE_WARN_DAYS),
      })),
      letters,
      feeAssessments: fees.map(({ base_minor, accrued_minor, amount_minor, ...line }: Record<string, string>) => ({
        ...line,
        ratePerDay: trimRate(line.ratePerDay),
        base: money(base_minor),
        accrued: money(accrued_minor),
        amount: money(amount_minor),
      })),
      schedule: schedule.map(({ definition, ...step }: { definition: Record<string, unknown> }) => ({ ...step, ...definition })),
    };
  }

  async touches(caseId: string, cursor: string | undefined, limit: number) {
    const [exists] = await this.dataSource.query('SELECT 1 FROM cases WHERE id = $1', [caseId]);
    if (!exists) throw new NotFound('case', caseId);
    const afterSeq = cursor ? Number(decodeCursor<[number]>(cursor, 1)[0]) : 0;
    const rows = await this.dataSource.query(
      `SELECT id, case_id AS "caseId", seq, kind, at, actor, channel, data, prev_hash AS "prevHash", hash
       FROM touches WHERE case_id = $1 AND seq > $2 ORDER BY seq LIMIT ${limit + 1}`,
      [caseId, afterSeq],
    );
    const { page, nextCursor } = pageOf<{ seq: number }>(rows, limit, (last) => [last.seq]);
    return { items: page, nextCursor };
  }

  private toCase(row: CaseRow) {
    const currency = row.currency.trim();
    const dpd = daysPastDue(row.due_at, this.clock.now(), row.timezone);
    return {
      id: row.id,
      status: row.status,
      stage: stageFor(dpd),
      daysPastDue: dpd,
      segment: row.segment,
      policy: { key: row.policy_key, version: row.policy_version },
      invoice: { externalId: row.invoice_external_id, contractRef: row.contract_ref, dueDate: row.due_date, dueAt: row.due_at },
      debtor: { externalId: row.debtor_external_id },
      currency,
      principal: formatMinorUnits(BigInt(row.principal_minor), currency),
      balance: formatMinorUnits(BigInt(row.balance_minor), currency),
      fees: formatMinorUnits(BigInt(row.fees_minor), currency),
      totalDue: formatMinorUnits(BigInt(row.balance_minor) + BigInt(row.fees_minor), currency),
      contract: { status: row.contract_status, terminatedAt: row.contract_terminated_at },
      limitation: { date: row.limitation_date, jurisdiction: row.jurisdiction },
      openedAt: row.opened_at,
      closedAt: row.closed_at,
    };
  }
}
