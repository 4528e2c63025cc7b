import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { CaseRepository, type CaseTerms } from '../cases/case.repository';
import { FeeRepository } from '../cases/fee.repository';
import { Clock } from '../common/clock';
import type { Tx } from '../database/transactions';
import { accruedFee } from '../domain/accrued-fee';
import { formatMinorUnits, toMinorUnits } from '../domain/money';
import { SKIP_REASONS } from '../domain/statuses';
import type { TouchInput } from '../domain/touch-kinds';

/**
 * Records fee assessments: a ledger line for what the accrued late fee adds since the last
 * assessment, and the case's fee total. Assessing twice on a day adds nothing.
 */
@Injectable()
export class FeeAssessor {
  constructor(
    private readonly clock: Clock,
    private readonly cases: CaseRepository,
    private readonly fees: FeeRepository,
  ) {}

  /** The `fee.assessed` touch, or a skip reason when no late-fee rate applies. */
  async assess(tx: Tx, terms: CaseTerms, stepId: string | null, actor: string): Promise<{ touches: TouchInput[] } | { skipped: string }> {
    const now = this.clock.now();
    const fee = accruedFee(terms, now);
    if (!fee) return { skipped: SKIP_REASONS.noLateFeeRate };
    const accrued = toMinorUnits(fee.accrued, terms.currency)!;
    // Only late fees count against the accrued late fee; other charges stand beside it.
    const before = await this.fees.total(tx, terms.id, true);
    const amount = accrued > before ? accrued - before : 0n;
    const id = randomUUID();
    await this.fees.insert(tx, {
      id,
      caseId: terms.id,
      kind: 'late-fee',
      stepId,
      at: now,
      asOf: fee.asOf,
      days: fee.days,
      ratePerDay: fee.ratePerDay,
      baseMinor: terms.balanceMinor,
      accruedMinor: accrued,
      amountMinor: amount,
      capMinor: fee.cap === null ? null : toMinorUnits(fee.cap, terms.currency)!,
      actor,
    });
    const total = await this.cases.addFees(tx, terms.id, amount, now);
    terms.feesMinor = total;
    const money = (minor: bigint) => formatMinorUnits(minor, terms.currency);
    return {
      touches: [
        {
          kind: 'fee.assessed',
          actor,
          data: {
            stepId,
            assessmentId: id,
            asOf: fee.asOf,
            startDate: fee.startDate,
            days: fee.days,
            ratePerDay: fee.ratePerDay,
            base: fee.base,
            formula: `${fee.base} × ${fee.days} × ${fee.ratePerDay}`,
            accrued: fee.accrued,
            amount: money(amount),
            fees: money(total),
            cap: fee.cap,
            capped: fee.capped,
            currency: terms.currency,
          },
        },
      ],
    };
  }
}
