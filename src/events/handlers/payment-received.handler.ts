import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { CaseRepository } from '../../cases/case.repository';
import { CaseClosing } from '../../cases/case-closing.service';
import { Commitments } from '../../cases/commitments.service';
import { FeeAssessor } from '../../cases/fee-assessor.service';
import { LimitationClock } from '../../cases/limitation-clock.service';
import { PaymentRepository } from '../../cases/payment.repository';
import { Clock } from '../../common/clock';
import type { Tx } from '../../database/transactions';
import { caseAccount } from '../../domain/account';
import { localDate } from '../../domain/calendar';
import type { PaymentReceived } from '../../domain/events';
import { formatMinorUnits, toMinorUnits } from '../../domain/money';
import type { QueueEffects } from '../../domain/step';
import type { TouchInput } from '../../domain/touch-kinds';
import { type Applied, type EventHandler, EventRejected, OpenCases } from '../event-handler';

/**
 * `payment.received` pays the account (once per payment id) in its allocation order, corrects a
 * late fee assessed on a balance the payment lowered, restarts the limitation period as a part
 * payment where the law says so, keeps the promises and plan instalments it pays, and resolves
 * the case when nothing is owed.
 */
@Injectable()
export class PaymentReceivedHandler implements EventHandler<'payment.received'> {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly open: OpenCases,
    private readonly cases: CaseRepository,
    private readonly payments: PaymentRepository,
    private readonly commitments: Commitments,
    private readonly closing: CaseClosing,
    private readonly fees: FeeAssessor,
    private readonly limitation: LimitationClock,
  ) {}

  async apply(tx: Tx, eventId: string, data: PaymentReceived, actor: string, effects: QueueEffects): Promise<Applied> {
    const kase = await this.open.lock(tx, data.invoiceExternalId);
    if (data.currency !== kase.currency) throw new EventRejected(`data.currency: payment in ${data.currency} but the case is in ${kase.currency}`);
    const amount = toMinorUnits(data.amount, data.currency)!;
    const now = this.clock.now();
    const recorded = await this.payments.insert(tx, {
      caseId: kase.id,
      externalId: data.paymentId,
      amountMinor: amount,
      currency: data.currency,
      paidAt: data.paidAt,
      at: now,
    });
    if (!recorded) return { caseId: kase.id, duplicate: true };

    // The account with this payment in it: the one calculation (domain/account.ts) says what the
    // payment paid, in the allocation order, and what is still owed.
    const money = (await this.cases.money(tx, kase.id))!;
    // A payment dated a moment ahead (within the clock skew) may fall on the debtor's next day: count it.
    const paidAt = new Date(data.paidAt);
    const account = caseAccount(money, paidAt > now ? paidAt : now);
    const allocation = account.payments.find((p) => p.id === data.paymentId);
    const before = kase.balanceMinor;
    const after = account.principalOutstandingMinor;
    const counted = await this.cases.applyPayment(tx, kase.id, after, amount, now);
    const figure = (minor: bigint) => formatMinorUnits(minor, data.currency);
    const touches: TouchInput[] = [
      { kind: 'event.received', actor, data: { eventId, type: 'payment.received' } },
      {
        kind: 'payment.applied',
        actor,
        data: {
          paymentId: data.paymentId,
          amount: figure(amount),
          currency: data.currency,
          paidAt: data.paidAt,
          balanceBefore: figure(before),
          balanceAfter: figure(after),
          allocationOrder: account.allocation,
          ...(allocation
            ? { toCosts: figure(allocation.toCostsMinor), toInterest: figure(allocation.toInterestMinor), toPrincipal: figure(allocation.toPrincipalMinor) }
            : {}),
          amountDue: figure(account.totalDueMinor),
          ...(account.unappliedMinor > 0n ? { overpaid: figure(account.unappliedMinor) } : {}),
        },
      },
    ];
    touches.push(...(await this.fees.adjust(tx, kase.id, money, data.paymentId, localDate(paidAt, money.timezone), actor)));
    // A part payment acknowledges the debt where the law says so (PRC art. 195, BGB § 212, LA 1980 s.29).
    if (account.totalDueMinor > 0n) {
      const source = { cause: 'payment.received', kind: 'payment.applied', key: { paymentId: data.paymentId } };
      touches.push(...(await this.limitation.restart(tx, kase.id, paidAt, 'part-payment', source, actor)));
    }
    touches.push(...(await this.commitments.onPayment(tx, counted, actor, effects)));
    if (account.totalDueMinor === 0n) {
      touches.push(...(await this.closing.close(tx, kase.id, 'resolved', 'case resolved: paid in full', actor, effects)));
      touches.push({ kind: 'case.resolved', actor, data: { reason: 'paid in full', paymentId: data.paymentId } });
    }
    await this.audit.record(tx, kase.id, touches);
    return { caseId: kase.id };
  }
}
