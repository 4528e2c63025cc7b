import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { CaseRepository } from '../../cases/case.repository';
import { CaseClosing } from '../../cases/case-closing.service';
import { Commitments } from '../../cases/commitments.service';
import { PaymentRepository } from '../../cases/payment.repository';
import { Clock } from '../../common/clock';
import type { Tx } from '../../database/transactions';
import type { PaymentReceived } from '../../domain/events';
import { formatMinorUnits, toMinorUnits } from '../../domain/money';
import type { QueueEffects } from '../../domain/step';
import type { TouchInput } from '../../domain/touch-kinds';
import { type Applied, type EventHandler, EventRejected, OpenCases } from '../event-handler';

/**
 * `payment.received` lowers the balance (once per payment id), keeps the promises and plan
 * instalments it pays, and resolves the case when it is paid in full.
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

    const before = kase.balanceMinor;
    const after = before > amount ? before - amount : 0n;
    const counted = await this.cases.applyPayment(tx, kase.id, after, amount, now);
    const money = (minor: bigint) => formatMinorUnits(minor, data.currency);
    const touches: TouchInput[] = [
      { kind: 'event.received', actor, data: { eventId, type: 'payment.received' } },
      {
        kind: 'payment.applied',
        actor,
        data: {
          paymentId: data.paymentId,
          amount: money(amount),
          currency: data.currency,
          paidAt: data.paidAt,
          balanceBefore: money(before),
          balanceAfter: money(after),
          ...(amount > before ? { overpaid: money(amount - before) } : {}),
        },
      },
    ];
    touches.push(...(await this.commitments.onPayment(tx, counted, actor, effects)));
    if (after === 0n) {
      touches.push(...(await this.closing.close(tx, kase.id, 'resolved', 'case resolved: paid in full', actor, effects)));
      touches.push({ kind: 'case.resolved', actor, data: { reason: 'paid in full', paymentId: data.paymentId } });
    }
    await this.audit.record(tx, kase.id, touches);
    return { caseId: kase.id };
  }
}
