import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Duration } from 'luxon';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Transactions, type Tx } from '../database/transactions';
import { localDate } from '../domain/calendar';
import { checkInstalments, graceEnds, type Instalment } from '../domain/commitments';
import { formatMinorUnits, toMinorUnits } from '../domain/money';
import { isOpen } from '../domain/statuses';
import { noQueueEffects, type QueueEffects } from '../domain/step';
import type { TouchInput } from '../domain/touch-kinds';
import { AuditService } from '../audit/audit.service';
import { EscalationService } from '../escalations/escalation.service';
import { OnSweep } from '../jobs/job-handlers';
import { SweepName } from '../jobs/job-names';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import { CaseRepository, type CommittedCase } from './case.repository';
import { CaseHolds } from './case-holds.service';
import { CommitmentRepository } from './commitment.repository';
import { FeeRepository } from './fee.repository';
import { LimitationClock } from './limitation-clock.service';

/** Commitments that break per sweep at the most; the rest wait for the next round. */
const DUE_PAGE = 500;

/**
 * Promises to pay and payment plans. Each pauses the ladder with a hold while it is kept; a
 * payment that fulfils it releases the hold (`promise.kept`, `plan.kept`), and a missed date plus
 * grace breaks it (`promise.broken`, `plan.broken`) and the ladder resumes where it paused.
 */
@Injectable()
export class Commitments {
  private readonly logger = new Logger(Commitments.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly audit: AuditService,
    private readonly holds: CaseHolds,
    private readonly scheduler: StepScheduler,
    private readonly clock: Clock,
    private readonly escalations: EscalationService,
    private readonly cases: CaseRepository,
    private readonly commitments: CommitmentRepository,
    private readonly fees: FeeRepository,
    private readonly limitation: LimitationClock,
  ) {}

  /** Records a promise on a locked open case; an open promise it replaces is cancelled. */
  async promise(
    tx: Tx,
    kase: CommittedCase,
    amount: string,
    dueDate: string,
    actor: string,
    source: string,
    effects: QueueEffects,
  ): Promise<{ id: string; touches: TouchInput[] }> {
    const amountMinor = toMinorUnits(amount, kase.currency);
    const today = localDate(this.clock.now(), kase.timezone);
    if (amountMinor === null || amountMinor <= 0n) {
      const reason = `must be above zero with at most the decimals ${kase.currency} allows`;
      throw new DomainError('validation', `amount: ${reason}`, [{ field: 'amount', reason }]);
    }
    if (amountMinor > kase.balanceMinor) {
      throw new DomainError('unprocessable', `amount: ${amount} is more than the balance ${formatMinorUnits(kase.balanceMinor, kase.currency)}`, [
        { field: 'amount', reason: 'must not exceed the balance' },
      ]);
    }
    if (dueDate < today) {
      throw new DomainError('unprocessable', `dueDate: ${dueDate} is before today (${today}) on the debtor's calendar`, [
        { field: 'dueDate', reason: 'must not be in the past' },
      ]);
    }
    if (await this.commitments.activePlan(tx, kase.id))
      throw new DomainError('conflict', `case ${kase.id} has an active payment plan; a promise would not change it`);

    const now = this.clock.now();
    const [replaced] = await this.commitments.cancelOpenPromises(tx, kase.id, now);
    const id = randomUUID();
    const pauseUntil = graceEnds(dueDate, kase.timezone, this.config.PROMISE_GRACE);
    await this.commitments.insertPromise(tx, {
      id,
      caseId: kase.id,
      amountMinor,
      dueDate,
      pauseUntil,
      paidBeforeMinor: kase.paidMinor,
      at: now,
      by: actor,
      source,
    });
    const money = formatMinorUnits(amountMinor, kase.currency);
    const touches: TouchInput[] = [
      {
        kind: 'promise.recorded',
        actor,
        data: {
          promiseId: id,
          amount: money,
          currency: kase.currency,
          dueDate,
          pauseUntil: pauseUntil.toISOString(),
          source,
          ...(replaced ? { replaces: replaced } : {}),
        },
      },
    ];
    // A replaced promise already holds the case; one hold per promise chain is enough.
    if (!replaced) touches.push(...(await this.holds.place(tx, kase, 'promise', `promise to pay ${money} by ${dueDate}`, actor, effects)).touches);
    // A promise to pay is the debtor agreeing to perform: where the law says so (PRC art. 195), it restarts the limitation period.
    touches.push(
      ...(await this.limitation.restart(tx, kase.id, now, 'promise', { cause: 'promise.recorded', kind: 'promise.recorded', key: { promiseId: id } }, actor)),
    );
    return { id, touches };
  }

  /** Agrees a payment plan on a locked open case: it replaces an open promise and pauses the ladder. */
  async plan(
    tx: Tx,
    kase: CommittedCase,
    instalments: readonly Instalment[],
    actor: string,
    effects: QueueEffects,
  ): Promise<{ id: string; touches: TouchInput[] }> {
    const today = localDate(this.clock.now(), kase.timezone);
    const problems = checkInstalments(instalments, kase.currency, kase.balanceMinor, today);
    if (problems.length > 0) throw new DomainError('unprocessable', problems.map((p) => `${p.field}: ${p.reason}`).join('; '), problems);
    if (await this.commitments.activePlan(tx, kase.id)) throw new DomainError('conflict', `case ${kase.id} already has an active payment plan`);

    const now = this.clock.now();
    const touches: TouchInput[] = [];
    const promises = await this.commitments.cancelOpenPromises(tx, kase.id, now);
    if (promises.length > 0) touches.push(...(await this.holds.release(tx, kase, { kinds: ['promise'] }, 'replaced by a payment plan', actor, effects)));
    const id = randomUUID();
    let cumulativeMinor = 0n;
    const rows = instalments.map((instalment, seq) => {
      const amountMinor = toMinorUnits(instalment.amount, kase.currency)!;
      cumulativeMinor += amountMinor;
      return { seq: seq + 1, dueDate: instalment.dueDate, amountMinor, cumulativeMinor };
    });
    await this.commitments.insertPlan(tx, { id, caseId: kase.id, at: now, by: actor, paidBeforeMinor: kase.paidMinor, instalments: rows });
    touches.push({
      kind: 'plan.agreed',
      actor,
      data: {
        planId: id,
        currency: kase.currency,
        instalments: rows.map((r) => ({ seq: r.seq, dueDate: r.dueDate, amount: formatMinorUnits(r.amountMinor, kase.currency) })),
        replacedPromises: promises,
      },
    });
    touches.push(...(await this.holds.place(tx, kase, 'plan', `payment plan of ${rows.length} instalments`, actor, effects)).touches);
    return { id, touches };
  }

  /**
   * After a payment on a locked case (`paidMinor` already counts it): a promise whose amount is
   * now paid is kept; plan instalments covered by the payments are marked paid, and a plan paid in
   * full is kept. Kept commitments release their hold.
   */
  async onPayment(tx: Tx, kase: CommittedCase, actor: string, effects: QueueEffects): Promise<TouchInput[]> {
    const now = this.clock.now();
    const touches: TouchInput[] = [];
    for (const promise of await this.commitments.keepPaidPromises(tx, kase.id, kase.paidMinor, now)) {
      touches.push({ kind: 'promise.kept', actor, data: { promiseId: promise.id, amount: formatMinorUnits(promise.amountMinor, kase.currency) } });
      touches.push(...(await this.holds.release(tx, kase, { kinds: ['promise'] }, 'promise kept', actor, effects)));
    }
    const plan = await this.commitments.activePlan(tx, kase.id);
    if (!plan) return touches;
    const paidSince = kase.paidMinor - plan.paidBeforeMinor;
    if ((await this.commitments.payInstalments(tx, plan.id, paidSince)) === 0) {
      await this.commitments.completePlan(tx, plan.id, now);
      touches.push({ kind: 'plan.kept', actor, data: { planId: plan.id, paid: formatMinorUnits(paidSince, kase.currency) } });
      touches.push(...(await this.holds.release(tx, kase, { kinds: ['plan'] }, 'payment plan completed', actor, effects)));
    }
    return touches;
  }

  /**
   * The periodic look at commitments whose date and grace have passed without the money: each
   * broken promise or plan is recorded and its hold released, so the ladder resumes.
   * Returns how many broke.
   */
  @OnSweep(SweepName.Commitments)
  async checkDue(): Promise<number> {
    const due = await this.commitments.due(this.clock.now(), Duration.fromISO(this.config.PROMISE_GRACE).as('seconds'), DUE_PAGE);
    let broken = 0;
    for (const item of due) {
      // One commitment that cannot be broken must not hold up the others; it is tried again next round.
      try {
        await this.breakCommitment(item.caseId, item.kind, item.id);
        broken++;
      } catch (error) {
        this.logger.warn(`${item.kind} ${item.id} of case ${item.caseId} not broken, will try again: ${(error as Error).message}`);
      }
    }
    return broken;
  }

  /** What the case's policy says a broken promise costs (a fixed fee) and leads to (resume, or escalate). */
  private async brokenPromiseConsequences(tx: Tx, kase: CommittedCase, promiseId: string, afterCommit: (() => Promise<void>)[]): Promise<TouchInput[]> {
    const rule = await this.cases.policyBlock(tx, kase.id, 'brokenPromise');
    const touches: TouchInput[] = [];
    const fee = rule?.fee ? toMinorUnits(rule.fee, kase.currency) : null;
    if (fee !== null && fee > 0n) {
      const now = this.clock.now();
      await this.fees.insert(tx, {
        id: randomUUID(),
        caseId: kase.id,
        kind: 'broken-promise',
        stepId: null,
        at: now,
        asOf: localDate(now, kase.timezone),
        days: 0,
        ratePerDay: '0',
        baseMinor: 0n,
        accruedMinor: fee,
        amountMinor: fee,
        capMinor: null,
        actor: 'system',
      });
      const fees = await this.fees.charged(tx, kase.id);
      touches.push({
        kind: 'fee.assessed',
        actor: 'system',
        data: {
          kind: 'broken-promise',
          promiseId,
          amount: formatMinorUnits(fee, kase.currency),
          fees: formatMinorUnits(fees, kase.currency),
          currency: kase.currency,
        },
      });
    }
    if (rule?.then && rule.then !== 'resume') {
      const escalation = await this.escalations.escalate(tx, kase, rule.then, 'system', { reason: `promise ${promiseId} broken` });
      touches.push(...escalation.touches);
      if (escalation.afterCommit) afterCommit.push(escalation.afterCommit);
    }
    return touches;
  }

  private async breakCommitment(caseId: string, kind: 'promise' | 'plan', id: string): Promise<void> {
    const effects = noQueueEffects();
    const afterCommit: (() => Promise<void>)[] = [];
    await this.transactions.run(async (tx) => {
      const kase = await this.cases.lockCommitted(tx, caseId);
      if (!kase) return;
      const now = this.clock.now();
      const paid = (sinceMinor: bigint) => formatMinorUnits(kase.paidMinor - sinceMinor, kase.currency);
      let touches: TouchInput[];
      if (kind === 'promise') {
        const promise = await this.commitments.breakPromise(tx, id, now);
        if (!promise) return;
        touches = [
          {
            kind: 'promise.broken',
            actor: 'system',
            data: {
              promiseId: id,
              promised: formatMinorUnits(promise.amountMinor, kase.currency),
              dueDate: promise.dueDate,
              paid: paid(promise.paidBeforeMinor),
            },
          },
        ];
        touches.push(...(await this.brokenPromiseConsequences(tx, kase, id, afterCommit)));
      } else {
        const plan = await this.commitments.breakPlan(tx, id, now, localDate(now, kase.timezone));
        if (!plan) return;
        touches = [{ kind: 'plan.broken', actor: 'system', data: { planId: id, missed: plan.missed, paid: paid(plan.paidBeforeMinor) } }];
      }
      if (isOpen(kase.status)) touches.push(...(await this.holds.release(tx, kase, { kinds: [kind] }, `${kind} broken`, 'system', effects)));
      await this.audit.record(tx, caseId, touches);
    });
    await this.scheduler.enqueue(effects.enqueue);
    for (const task of afterCommit) await task();
  }
}
