import { Inject, Injectable } from '@nestjs/common';
import { TouchRepository } from '../audit/touch.repository';
import { Clock } from '../common/clock';
import { decodeCursor, pageOf } from '../common/cursor';
import { NotFound } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { localDate } from '../domain/calendar';
import { daysPastDue, type Stage, STAGE_DAYS, stageFor } from '../domain/ladder';
import { trimRate } from '../domain/late-fee';
import { guaranteeStatus } from '../domain/legal-clocks';
import { formatMinorUnits } from '../domain/money';
import { StepRepository } from '../scheduling/step.repository';
import { CaseRepository, type CaseRecord } from './case.repository';
import { FeeRepository } from './fee.repository';
import { GuarantorRepository } from './guarantor.repository';
import { HoldRepository } from './hold.repository';

export interface CaseQuery {
  status?: string;
  /** Cases whose limitation date falls before this day (YYYY-MM-DD): at risk of becoming unenforceable. */
  limitationBefore?: string;
  stage?: Stage;
  debtorExternalId?: string;
  cursor?: string;
  limit: number;
}

/** Read side of cases: lists, detail with schedule, and the audit trail. */
@Injectable()
export class CaseQueries {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly cases: CaseRepository,
    private readonly holds: HoldRepository,
    private readonly steps: StepRepository,
    private readonly guarantors: GuarantorRepository,
    private readonly fees: FeeRepository,
    private readonly touches: TouchRepository,
  ) {}

  async list(query: CaseQuery) {
    const [openedAt, id] = query.cursor ? decodeCursor<[string, string]>(query.cursor, 2) : [];
    const stage = query.stage && STAGE_DAYS[query.stage];
    const rows = await this.cases.list({
      status: query.status,
      limitationBefore: query.limitationBefore,
      debtorExternalId: query.debtorExternalId,
      daysPastDue: stage && { now: this.clock.now(), from: stage[0], to: stage[1] },
      before: openedAt !== undefined && id !== undefined ? { openedAt, id } : undefined,
      limit: query.limit + 1,
    });
    const { page, nextCursor } = pageOf(rows, query.limit, (last) => [last.openedAt.toISOString(), last.id]);
    return { items: page.map((row) => this.present(row)), nextCursor };
  }

  async detail(id: string) {
    const kase = await this.cases.get(id);
    if (!kase) throw new NotFound('case', id);
    const [holds, schedule, guarantors, letters, fees] = await Promise.all([
      this.holds.ofCase(id),
      this.steps.ofCase(id),
      this.guarantors.recordsOfCase(id),
      this.cases.letters(id),
      this.fees.ofCase(id),
    ]);
    const today = localDate(this.clock.now(), kase.timezone);
    const money = (minor: bigint) => formatMinorUnits(minor, kase.currency);
    return {
      ...this.present(kase),
      holds,
      guarantors: guarantors.map((g) => ({
        ...g,
        notifiedInTime: g.notifiedOn !== null && g.notifiedOn <= g.guaranteeEndsOn,
        status: guaranteeStatus(g.guaranteeEndsOn, g.notifiedOn, today, this.config.GUARANTEE_WARN_DAYS),
      })),
      letters,
      feeAssessments: fees.map(({ baseMinor, accruedMinor, amountMinor, ...line }) => ({
        ...line,
        ratePerDay: trimRate(line.ratePerDay),
        base: money(baseMinor),
        accrued: money(accruedMinor),
        amount: money(amountMinor),
      })),
      schedule: schedule.map(({ definition, ...step }) => ({ ...step, ...definition })),
    };
  }

  async touchesOf(caseId: string, cursor: string | undefined, limit: number) {
    if (!(await this.cases.exists(caseId))) throw new NotFound('case', caseId);
    const afterSeq = cursor ? Number(decodeCursor<[number]>(cursor, 1)[0]) : 0;
    const rows = await this.touches.caseTrail(caseId, afterSeq, limit + 1);
    const { page, nextCursor } = pageOf(rows, limit, (last) => [last.seq]);
    return { items: page, nextCursor };
  }

  private present(row: CaseRecord) {
    const dpd = daysPastDue(row.dueAt, this.clock.now(), row.timezone);
    const money = (minor: bigint) => formatMinorUnits(minor, row.currency);
    return {
      id: row.id,
      status: row.status,
      stage: stageFor(dpd),
      daysPastDue: dpd,
      segment: row.segment,
      policy: { key: row.policyKey, version: row.policyVersion },
      invoice: { externalId: row.invoiceExternalId, contractRef: row.contractRef, dueDate: row.dueDate, dueAt: row.dueAt },
      debtor: { externalId: row.debtorExternalId },
      currency: row.currency,
      principal: money(row.principalMinor),
      balance: money(row.balanceMinor),
      fees: money(row.feesMinor),
      totalDue: money(row.balanceMinor + row.feesMinor),
      contract: { status: row.contractStatus, terminatedAt: row.contractTerminatedAt },
      limitation: { date: row.limitationDate, jurisdiction: row.jurisdiction },
      openedAt: row.openedAt,
      closedAt: row.closedAt,
    };
  }
}
