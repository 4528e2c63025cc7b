import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';

/** The figures of one assessment: the fee is the product of base, rate and days, up to the cap. */
interface FeeFigures {
  stepId: string | null;
  asOf: string;
  days: number;
  ratePerDay: string;
  baseMinor: bigint;
  accruedMinor: bigint;
  amountMinor: bigint;
}

export interface NewFeeAssessment extends FeeFigures {
  id: string;
  caseId: string;
  /** A late fee as assessed, a later correction of one (negative when a backdated payment lowered it), or a fixed charge. */
  kind: FeeKind;
  at: Date;
  capMinor: bigint | null;
  actor: string;
}

export type FeeKind = 'late-fee' | 'late-fee-adjustment' | 'broken-promise';

export interface FeeAssessmentRecord extends FeeFigures {
  id: string;
  kind: FeeKind;
  assessedAt: Date;
}

/** The fee ledger: one line per assessment (late fees as they accrue, and fixed charges). */
@Injectable()
export class FeeRepository extends SqlRepository {
  async insert(tx: Tx, fee: NewFeeAssessment): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO fee_assessments (id, case_id, kind, step_id, assessed_at, as_of, days, rate_per_day, base_minor, accrued_minor, amount_minor, cap_minor, actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        fee.id,
        fee.caseId,
        fee.kind,
        fee.stepId,
        fee.at,
        fee.asOf,
        fee.days,
        fee.ratePerDay,
        fee.baseMinor.toString(),
        fee.accruedMinor.toString(),
        fee.amountMinor.toString(),
        fee.capMinor === null ? null : fee.capMinor.toString(),
        fee.actor,
      ],
    );
  }

  /** The late fees assessed on the case so far (with their corrections), and the day the last assessment counted to. */
  async lateFeeAssessed(tx: Tx, caseId: string): Promise<{ totalMinor: bigint; lastAsOf: string | null }> {
    const row = await this.row<{ total: string; last_as_of: string | null }>(
      tx,
      `SELECT COALESCE(sum(amount_minor), 0)::text AS total, to_char(max(as_of) FILTER (WHERE kind = 'late-fee'), 'YYYY-MM-DD') AS last_as_of
       FROM fee_assessments WHERE case_id = $1 AND kind IN ('late-fee', 'late-fee-adjustment')`,
      [caseId],
    );
    return { totalMinor: BigInt(row?.total ?? '0'), lastAsOf: row?.last_as_of ?? null };
  }

  /** The fixed charges (costs) put on the case so far. */
  async charged(tx: Tx, caseId: string): Promise<bigint> {
    const row = await this.row<{ total: string }>(
      tx,
      `SELECT COALESCE(sum(amount_minor), 0)::text AS total FROM fee_assessments WHERE case_id = $1 AND kind = 'broken-promise'`,
      [caseId],
    );
    return BigInt(row?.total ?? '0');
  }

  async ofCase(caseId: string): Promise<FeeAssessmentRecord[]> {
    const rows = await this.rows<{
      id: string;
      kind: FeeKind;
      stepId: string | null;
      assessedAt: Date;
      asOf: string;
      days: number;
      ratePerDay: string;
      base_minor: string;
      accrued_minor: string;
      amount_minor: string;
    }>(
      undefined,
      `SELECT id, kind, step_id AS "stepId", assessed_at AS "assessedAt", to_char(as_of, 'YYYY-MM-DD') AS "asOf", days, rate_per_day::text AS "ratePerDay",
         base_minor, accrued_minor, amount_minor
       FROM fee_assessments WHERE case_id = $1 ORDER BY assessed_at, id`,
      [caseId],
    );
    return rows.map(({ base_minor, accrued_minor, amount_minor, ...line }) => ({
      ...line,
      baseMinor: BigInt(base_minor),
      accruedMinor: BigInt(accrued_minor),
      amountMinor: BigInt(amount_minor),
    }));
  }
}
