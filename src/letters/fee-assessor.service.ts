import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { TouchInput } from '../domain/touch-kinds';
import { Clock } from '../common/clock';
import { formatMinorUnits, toMinorUnits } from '../domain/money';
import { accruedFee, CaseTerms } from './case-terms';

/**
 * Records fee assessments: a ledger line for what the accrued late fee adds since the last
 * assessment, and the case's fee total. Assessing twice on a day adds nothing.
 */
@Injectable()
export class FeeAssessor {
  constructor(private readonly clock: Clock) {}

  /** The `fee.assessed` touch, or a skip reason when no late-fee rate applies. */
  async assess(m: EntityManager, terms: CaseTerms, stepId: string | null, actor: string): Promise<{ touches: TouchInput[] } | { skipped: string }> {
    const now = this.clock.now();
    const fee = accruedFee(terms, now);
    if (!fee) return { skipped: 'no late-fee rate: neither the invoice nor the policy states one' };
    const accrued = toMinorUnits(fee.accrued, terms.currency)!;
    // Only late fees count against the accrued late fee; other charges stand beside it.
    const [{ assessed }] = await m.query(
      `SELECT COALESCE(sum(amount_minor), 0)::text AS assessed FROM fee_assessments WHERE case_id = $1 AND kind = 'late-fee'`,
      [terms.id],
    );
    const before = BigInt(assessed);
    const amount = accrued > before ? accrued - before : 0n;
    const id = randomUUID();
    await m.query(
      `INSERT INTO fee_assessments (id, case_id, step_id, assessed_at, as_of, days, rate_per_day, base_minor, accrued_minor, amount_minor, cap_minor, actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        id,
        terms.id,
        stepId,
        now,
        fee.asOf,
        fee.days,
        fee.ratePerDay,
        terms.balance_minor,
        accrued.toString(),
        amount.toString(),
        fee.cap === null ? null : toMinorUnits(fee.cap, terms.currency)!.toString(),
        actor,
      ],
    );
    const total = BigInt(terms.fees_minor) + amount;
    await m.query('UPDATE cases SET fees_minor = $2, updated_at = $3 WHERE id = $1', [terms.id, total.toString(), now]);
    terms.fees_minor = total.toString();
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
