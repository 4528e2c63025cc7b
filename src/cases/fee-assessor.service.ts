import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { Tx } from '../database/transactions';
import { type Account, accountAsOf, type CaseMoney, caseAccount, caseBasis, type LateFeeAccount } from '../domain/account';
import { trimRate } from '../domain/late-fee';
import { formatMinorUnits } from '../domain/money';
import { SKIP_REASONS } from '../domain/statuses';
import type { TouchInput } from '../domain/touch-kinds';
import { FeeRepository } from './fee.repository';

/**
 * The late-fee ledger: a fee step records what the fee accrued since the last assessment, and a
 * payment dated within an assessed period corrects the ledger by an adjustment line (the ledger
 * is append-only: a line is never edited). Both take the figures from domain/account.ts.
 */
@Injectable()
export class FeeAssessor {
  constructor(
    private readonly clock: Clock,
    private readonly fees: FeeRepository,
  ) {}

  /** The `fee.assessed` touch, or a skip reason when no late-fee rate applies. The caller holds the case lock. */
  async assess(tx: Tx, caseId: string, money: CaseMoney, stepId: string | null, actor: string): Promise<{ touches: TouchInput[] } | { skipped: string }> {
    const now = this.clock.now();
    const account = caseAccount(money, now);
    const fee = account.lateFee;
    if (!fee) return { skipped: SKIP_REASONS.noLateFeeRate };
    const before = await this.fees.lateFeeAssessed(tx, caseId);
    const amount = fee.accruedMinor > before.totalMinor ? fee.accruedMinor - before.totalMinor : 0n;
    const id = randomUUID();
    await this.fees.insert(tx, { id, caseId, kind: 'late-fee', stepId, at: now, ...ledgerFigures(account, fee), amountMinor: amount, actor });
    return {
      touches: [
        {
          kind: 'fee.assessed',
          actor,
          data: {
            stepId,
            assessmentId: id,
            ...feeEvidence(account, fee),
            amount: amountOf(amount, account),
            fees: amountOf(before.totalMinor + amount, account),
          },
        },
      ],
    };
  }

  /**
   * After a payment: when it was paid on or before the day the last assessment counted to, that
   * assessment ran on a balance too high. Records the difference to the period-exact fee of that
   * day as an adjustment line and a `fee.adjusted` touch.
   */
  async adjust(tx: Tx, caseId: string, money: CaseMoney, paymentId: string, paidOn: string, actor: string): Promise<TouchInput[]> {
    const assessed = await this.fees.lateFeeAssessed(tx, caseId);
    if (assessed.lastAsOf === null || paidOn > assessed.lastAsOf) return [];
    const account = accountAsOf(caseBasis(money), assessed.lastAsOf);
    const fee = account.lateFee;
    if (!fee || fee.accruedMinor === assessed.totalMinor) return [];
    const amount = fee.accruedMinor - assessed.totalMinor;
    const id = randomUUID();
    await this.fees.insert(tx, {
      id,
      caseId,
      kind: 'late-fee-adjustment',
      stepId: null,
      at: this.clock.now(),
      ...ledgerFigures(account, fee),
      amountMinor: amount,
      actor,
    });
    return [
      {
        kind: 'fee.adjusted',
        actor,
        data: { assessmentId: id, paymentId, ...feeEvidence(account, fee), amount: amountOf(amount, account), fees: amountOf(fee.accruedMinor, account) },
      },
    ];
  }
}

const amountOf = (minor: bigint, account: Account) => formatMinorUnits(minor, account.currency);

function ledgerFigures(account: Account, fee: LateFeeAccount) {
  return {
    asOf: account.asOf,
    days: fee.days,
    ratePerDay: fee.ratePerDay,
    baseMinor: account.principalOutstandingMinor,
    accruedMinor: fee.accruedMinor,
    capMinor: fee.capMinor,
  };
}

/** What a fee touch states: the day, the rate and every balance period with its figures. */
function feeEvidence(account: Account, fee: LateFeeAccount) {
  const rate = trimRate(fee.ratePerDay);
  return {
    asOf: account.asOf,
    startDate: fee.startDate,
    days: fee.days,
    ratePerDay: rate,
    base: amountOf(account.principalOutstandingMinor, account),
    periods: fee.periods.map((p) => ({ from: p.from, to: p.to, days: p.days, base: amountOf(p.baseMinor, account), fee: amountOf(p.feeMinor, account) })),
    formula: fee.periods.map((p) => `${amountOf(p.baseMinor, account)} × ${p.days} × ${rate}`).join(' + '),
    accrued: amountOf(fee.accruedMinor, account),
    cap: fee.capMinor === null ? null : amountOf(fee.capMinor, account),
    capped: fee.capped,
    currency: account.currency,
  };
}
