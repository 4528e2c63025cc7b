import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { ValidationFailed } from '../common/errors';
import type { CommissionRow, CureCurvePoint, FindingsByRuleRow, FunnelStage, KpiRow, QaScoreRow, ReportsPageData, RollRateCell } from './report-rows';
import { type Window, ReportRepository } from './report.repository';
import {
  bucketLabel,
  commissionRows,
  cureCurve,
  definitionsOf,
  findingsByRule,
  funnel,
  type KpiDimension,
  kpiRows,
  type QaDimension,
  qaScoreRows,
  rollMonths,
  rollRates,
} from './report.rules';

/** A report: its window, its rows and the definitions of the figures in them. */
export interface Report<T> {
  from: string;
  to: string;
  rows: T[];
  definitions: Record<string, string>;
}

/** Dates as the API takes them: `to` is included, so the window ends at the start of the day after. */
export interface ReportPeriod {
  from: string;
  to: string;
}

/** How many days the cure curve follows a case by default, and at most. */
export const CURE_CURVE_DAYS = 90;
export const MAX_CURE_CURVE_DAYS = 730;
/** A period is at most this long (three years): the roll rates and the cohort stay a bounded amount of work. */
export const MAX_PERIOD_DAYS = 1096;
/** The window when a report is asked without one: the last 90 days up to today (UTC). */
const DEFAULT_DAYS = 90;

const DAY_MS = 86_400_000;
const isoDate = (at: Date) => at.toISOString().slice(0, 10);

/** The collection KPIs and the QA roll-ups, from aggregates the repository computes in SQL. */
@Injectable()
export class Reports {
  constructor(
    private readonly repository: ReportRepository,
    private readonly clock: Clock,
  ) {}

  /** The period asked for, filled in (`to` today and `from` 89 days before it when left out), and checked. */
  period(asked: Partial<ReportPeriod>): ReportPeriod {
    const to = asked.to ?? isoDate(this.clock.now());
    const from = asked.from ?? isoDate(new Date(Date.parse(to) - (DEFAULT_DAYS - 1) * DAY_MS));
    if (from > to) throw new ValidationFailed([{ field: 'query.to', reason: `must not be before from (${from})` }]);
    if (Date.parse(to) - Date.parse(from) >= MAX_PERIOD_DAYS * DAY_MS) {
      throw new ValidationFailed([{ field: 'query.from', reason: `must be less than ${MAX_PERIOD_DAYS} days before to (${to})` }]);
    }
    return { from, to };
  }

  async kpis(asked: Partial<ReportPeriod>, by: KpiDimension): Promise<Report<KpiRow>> {
    const period = this.period(asked);
    const counts = await this.repository.kpiCounts(windowOf(period), by);
    const rows = kpiRows(counts, by === 'dpd' ? (key) => bucketLabel(Number(key)) : undefined);
    return this.report(period, rows, [
      'cohort',
      'cases',
      ...(by === 'dpd' || by === 'agency' ? [by] : []),
      'attempts',
      'contacts',
      'contactRate',
      'rightPartyContacts',
      'rightPartyContactRate',
      'messagesSent',
      'messagesDelivered',
      'promiseRate',
      'keptPromiseRate',
      'cureRate',
      'recovered',
      'contactsPerCure',
    ]);
  }

  async commission(asked: Partial<ReportPeriod>): Promise<Report<CommissionRow>> {
    const period = this.period(asked);
    return this.report(period, commissionRows(await this.repository.recoveredByAgency(windowOf(period))), ['commission']);
  }

  async cureCurve(asked: Partial<ReportPeriod>, days = CURE_CURVE_DAYS): Promise<Report<CureCurvePoint>> {
    const period = this.period(asked);
    return this.report(period, await this.cureCurvePoints(period, days), ['cohort', 'cureCurve']);
  }

  async rollRates(asked: Partial<ReportPeriod>): Promise<Report<RollRateCell>> {
    const period = this.period(asked);
    return this.report(period, await this.rollRateCells(period), ['dpd', 'rollRate']);
  }

  async funnel(asked: Partial<ReportPeriod>): Promise<Report<FunnelStage>> {
    const period = this.period(asked);
    return this.report(period, await this.funnelStages(period), ['cohort', 'funnel']);
  }

  async qaScores(asked: Partial<ReportPeriod>, by: QaDimension): Promise<Report<QaScoreRow>> {
    const period = this.period(asked);
    return this.report(period, await this.qaScoreRows(period, by), ['qaScores']);
  }

  async qaFindings(asked: Partial<ReportPeriod>): Promise<Report<FindingsByRuleRow>> {
    const period = this.period(asked);
    return this.report(period, await this.findingRows(period), ['findingsByRule']);
  }

  /** Everything the reports page draws, for one period. */
  async pageData(asked: Partial<ReportPeriod> = {}): Promise<ReportsPageData> {
    const period = this.period(asked);
    const [cureCurvePoints, rollRateCells, funnelStages, qaScoresByCollector, findings] = await Promise.all([
      this.cureCurvePoints(period, CURE_CURVE_DAYS),
      this.rollRateCells(period),
      this.funnelStages(period),
      this.qaScoreRows(period, 'collector'),
      this.findingRows(period),
    ]);
    return { cureCurve: cureCurvePoints, rollRates: rollRateCells, funnel: funnelStages, qaScoresByCollector, findingsByRule: findings };
  }

  private async cureCurvePoints(period: ReportPeriod, days: number) {
    return cureCurve(await this.repository.caseAges(windowOf(period), this.clock.now(), days), days);
  }

  private async rollRateCells(period: ReportPeriod) {
    const window = windowOf(period);
    const months = rollMonths(window.from, window.to, this.clock.now());
    return months.length > 0 ? rollRates(await this.repository.bucketMoves(months)) : [];
  }

  private async funnelStages(period: ReportPeriod) {
    return funnel(await this.repository.funnelFacts(windowOf(period)));
  }

  private async qaScoreRows(period: ReportPeriod, by: QaDimension) {
    return qaScoreRows(await this.repository.qaScoreSums(windowOf(period), by));
  }

  private async findingRows(period: ReportPeriod) {
    return findingsByRule(await this.repository.findingCounts(windowOf(period)));
  }

  private report<T>(period: ReportPeriod, rows: T[], names: Parameters<typeof definitionsOf>): Report<T> {
    return { ...period, rows, definitions: definitionsOf(...names) };
  }
}

/** [from, to] as dates → [from 00:00, the day after to 00:00) in UTC. */
function windowOf(period: ReportPeriod): Window {
  return { from: new Date(`${period.from}T00:00:00Z`), to: new Date(Date.parse(`${period.to}T00:00:00Z`) + DAY_MS) };
}
