import { Inject, Injectable } from '@nestjs/common';
import { TouchRepository } from '../audit/touch.repository';
import { Clock } from '../common/clock';
import { CURSOR, decodeCursor, pageOf } from '../common/cursor';
import { NotFound } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { daysPastDue, type Stage, STAGE_DAYS, stageFor } from '../domain/ladder';
import { trimRate } from '../domain/late-fee';
import { accountFigures, caseAccount } from '../domain/account';
import { type GuaranteeStatus, isExpiring } from '../domain/legal-clocks';
import type { LegalRecord } from '../domain/legal-record';
import { formatMinorUnits } from '../domain/money';
import { ExperimentRepository } from '../experiments/experiment.repository';
import { StepRepository } from '../scheduling/step.repository';
import { CaseRepository, type CaseRecord } from './case.repository';
import { CaseStandings } from './case-standings.service';
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
    private readonly standings: CaseStandings,
    private readonly experiments: ExperimentRepository,
  ) {}

  async list(query: CaseQuery) {
    const [openedAt, id] = query.cursor ? decodeCursor(query.cursor, CURSOR.instantAndId) : [];
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
    const [holds, schedule, guarantors, letters, fees, standing, arm] = await Promise.all([
      this.holds.ofCase(id),
      this.steps.ofCase(id),
      this.guarantors.recordsOfCase(id),
      this.cases.letters(id),
      this.fees.ofCase(id),
      this.standings.of(undefined, id, kase.money),
      this.experiments.armOfCase(id),
    ]);
    const money = (minor: bigint) => formatMinorUnits(minor, kase.currency);
    const guarantees = new Map(standing.record.guarantees.map((g) => [g.guarantorId, g]));
    return {
      ...this.present(kase, standing.account),
      experiment: arm ? { id: arm.experimentId, name: arm.name, arm: arm.arm } : null,
      holds,
      guarantors: guarantors.map((g) => {
        const guarantee = guarantees.get(g.id);
        const notifiedOn = guarantee?.notifiedOn ?? g.notifiedOn;
        return {
          ...g,
          type: g.type,
          notifiedOn,
          notifiedInTime: notifiedOn !== null && notifiedOn <= g.guaranteeEndsOn,
          status: compatibleStatus(guarantee?.status ?? 'in-period', g.guaranteeEndsOn, standing.today, this.config.GUARANTEE_WARN_DAYS),
        };
      }),
      letters,
      account: accountFigures(standing.account),
      legal: legalView(standing.record),
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
    const afterSeq = cursor ? decodeCursor(cursor, CURSOR.position)[0] : 0;
    const rows = await this.touches.caseTrail(caseId, afterSeq, limit + 1);
    const { page, nextCursor } = pageOf(rows, limit, (last) => [last.seq]);
    return { items: page, nextCursor };
  }

  private present(row: CaseRecord, account = caseAccount(row.money, this.clock.now())) {
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
      balance: money(account.principalOutstandingMinor),
      fees: money(account.totalDueMinor - account.principalOutstandingMinor),
      totalDue: money(account.totalDueMinor),
      contract: { status: row.contractStatus, terminatedAt: row.contractTerminatedAt },
      limitation: { date: row.limitationDate, jurisdiction: row.jurisdiction },
      openedAt: row.openedAt,
      closedAt: row.closedAt,
    };
  }
}

/**
 * `guarantors[].status` as clients knew it before guarantees had types: `notified` meant the
 * creditor's rights are preserved, so it is now said only of a preserved claim.
 */
function compatibleStatus(status: GuaranteeStatus, endsOn: string, today: string, warnDays: number): 'running' | 'expiring' | 'notified' | 'lapsed' {
  if (status === 'claim-preserved') return 'notified';
  if (status === 'lapsed') return 'lapsed';
  return isExpiring(endsOn, today, warnDays) ? 'expiring' : 'running';
}

/** The legal record as the API shows it: days, not instants, and letters by number. */
function legalView(record: LegalRecord) {
  const letter = (l: LegalRecord['letters'][number]) => ({
    letterId: l.letterId,
    number: l.number,
    type: l.type,
    recipient: l.recipient,
    sentOn: l.sentOn,
    channels: l.channels,
    deliveredOn: l.deliveredOn,
    deliveredBy: l.deliveredBy,
    returned: l.returned,
  });
  return {
    contract: record.contract,
    demands: { sent: record.demands.sent, delivered: record.demands.delivered, letters: record.demands.letters.map(letter) },
    reminders: {
      sent: record.reminders.sent,
      delivered: record.reminders.delivered,
      items: record.reminders.items.map((r) => ({ on: r.on, channel: r.channel, template: r.template, delivered: r.delivered })),
    },
    letters: record.letters.map(letter),
    guarantees: record.guarantees,
    limitation: record.limitation,
  };
}
