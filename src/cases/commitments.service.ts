import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DateTime, Duration } from 'luxon';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { TouchInput } from '../domain/touch-kinds';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors';
import { formatMinorUnits, toMinorUnits } from '../domain/money';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { updateReturning } from '../database/sql';
import { EscalationService, type EscalationTarget } from '../escalations/escalation.service';
import { OnSweep } from '../jobs/job-handlers';
import { SweepName } from '../jobs/job-names';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import { CaseHolds, type HeldCase, type QueueEffects } from './case-holds.service';

/** A case as the commitments need it, locked by the caller. */
export interface CommittedCase extends HeldCase {
  currency: string;
  balance_minor: string;
  paid_minor: string;
  timezone: string;
}

export interface Instalment {
  dueDate: string;
  amount: string;
}

/** When a promise or instalment due on `date` counts as missed: the end of that local day plus the grace period. */
export function graceEnds(date: string, timezone: string, grace: string): Date {
  return DateTime.fromISO(date, { zone: timezone }).plus({ days: 1 }).startOf('day').plus(Duration.fromISO(grace)).toJSDate();
}

/**
 * Checks an instalment schedule against the balance, in minor units: dates strictly increasing
 * from `today`, amounts above zero, summing to the balance. Returns the problems, by field.
 */
export function checkInstalments(
  instalments: readonly Instalment[],
  currency: string,
  balanceMinor: bigint,
  today: string,
): { field: string; reason: string }[] {
  const problems: { field: string; reason: string }[] = [];
  let total = 0n;
  instalments.forEach((instalment, i) => {
    const minor = toMinorUnits(instalment.amount, currency);
    if (minor === null || minor <= 0n)
      problems.push({ field: `instalments[${i}].amount`, reason: `must be above zero with at most the decimals ${currency} allows` });
    else total += minor;
    if (instalment.dueDate < today) problems.push({ field: `instalments[${i}].dueDate`, reason: `must not be before today (${today})` });
    if (i > 0 && instalment.dueDate <= instalments[i - 1].dueDate)
      problems.push({ field: `instalments[${i}].dueDate`, reason: 'must be after the previous instalment' });
  });
  if (problems.length === 0 && total !== balanceMinor) {
    problems.push({
      field: 'instalments',
      reason: `must add up to the balance ${formatMinorUnits(balanceMinor, currency)}, not ${formatMinorUnits(total, currency)}`,
    });
  }
  return problems;
}

/**
 * Promises to pay and payment plans. Each pauses the ladder with a hold while it is kept; a
 * payment that fulfils it releases the hold (`promise.kept`, `plan.kept`), and a missed date plus
 * grace breaks it (`promise.broken`, `plan.broken`) and the ladder resumes where it paused.
 */
@Injectable()
export class Commitments {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly holds: CaseHolds,
    private readonly scheduler: StepScheduler,
    private readonly clock: Clock,
    private readonly escalations: EscalationService,
  ) {}

  /** Locks an open case with what commitments need; a 404/409 otherwise. */
  async lockCase(m: EntityManager, caseId: string): Promise<CommittedCase | undefined> {
    const [kase]: CommittedCase[] = await m.query(
      `SELECT c.id, c.status, trim(c.currency) AS currency, c.balance_minor, c.paid_minor, d.timezone
       FROM cases c JOIN debtors d ON d.id = c.debtor_id WHERE c.id = $1 FOR UPDATE OF c`,
      [caseId],
    );
    return kase;
  }

  /** Records a promise on a locked open case; an open promise it replaces is cancelled. */
  async promise(
    m: EntityManager,
    kase: CommittedCase,
    amount: string,
    dueDate: string,
    actor: string,
    source: string,
    effects: QueueEffects,
  ): Promise<{ id: string; touches: TouchInput[] }> {
    const amountMinor = toMinorUnits(amount, kase.currency);
    const today = DateTime.fromJSDate(this.clock.now(), { zone: kase.timezone }).toISODate()!;
    if (amountMinor === null || amountMinor <= 0n)
      throw new DomainError('validation', `amount: must be above zero with at most the decimals ${kase.currency} allows`, [
        { field: 'amount', reason: `must be above zero with at most the decimals ${kase.currency} allows` },
      ]);
    if (amountMinor > BigInt(kase.balance_minor))
      throw new DomainError('unprocessable', `amount: ${amount} is more than the balance ${formatMinorUnits(BigInt(kase.balance_minor), kase.currency)}`, [
        { field: 'amount', reason: 'must not exceed the balance' },
      ]);
    if (dueDate < today)
      throw new DomainError('unprocessable', `dueDate: ${dueDate} is before today (${today}) on the debtor's calendar`, [
        { field: 'dueDate', reason: 'must not be in the past' },
      ]);
    const [active] = await m.query(`SELECT 1 FROM payment_plans WHERE case_id = $1 AND status = 'active'`, [kase.id]);
    if (active) throw new DomainError('conflict', `case ${kase.id} has an active payment plan; a promise would not change it`);

    const now = this.clock.now();
    const replaced = await updateReturning<{ id: string }>(
      m,
      `UPDATE promises SET status = 'cancelled', settled_at = $2 WHERE case_id = $1 AND status = 'open' RETURNING id`,
      [kase.id, now],
    );
    const id = randomUUID();
    const pauseUntil = graceEnds(dueDate, kase.timezone, this.config.PROMISE_GRACE);
    await m.query(
      `INSERT INTO promises (id, case_id, amount_minor, due_date, pause_until, paid_before_minor, status, made_at, made_by, source)
       VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9)`,
      [id, kase.id, amountMinor.toString(), dueDate, pauseUntil, kase.paid_minor, now, actor, source],
    );
    const touches: TouchInput[] = [
      {
        kind: 'promise.recorded',
        actor,
        data: {
          promiseId: id,
          amount: formatMinorUnits(amountMinor, kase.currency),
          currency: kase.currency,
          dueDate,
          pauseUntil: pauseUntil.toISOString(),
          source,
          ...(replaced[0] ? { replaces: replaced[0].id } : {}),
        },
      },
    ];
    // A replaced promise already holds the case; one hold per promise chain is enough.
    if (!replaced[0])
      touches.push(
        ...(await this.holds.place(m, kase, 'promise', `promise to pay ${formatMinorUnits(amountMinor, kase.currency)} by ${dueDate}`, actor, effects)).touches,
      );
    return { id, touches };
  }

  /** Agrees a payment plan on a locked open case: it replaces an open promise and pauses the ladder. */
  async plan(
    m: EntityManager,
    kase: CommittedCase,
    instalments: readonly Instalment[],
    actor: string,
    effects: QueueEffects,
  ): Promise<{ id: string; touches: TouchInput[] }> {
    const today = DateTime.fromJSDate(this.clock.now(), { zone: kase.timezone }).toISODate()!;
    const problems = checkInstalments(instalments, kase.currency, BigInt(kase.balance_minor), today);
    if (problems.length > 0) throw new DomainError('unprocessable', problems.map((p) => `${p.field}: ${p.reason}`).join('; '), problems);
    const [active] = await m.query(`SELECT 1 FROM payment_plans WHERE case_id = $1 AND status = 'active'`, [kase.id]);
    if (active) throw new DomainError('conflict', `case ${kase.id} already has an active payment plan`);

    const now = this.clock.now();
    const touches: TouchInput[] = [];
    const promises = await updateReturning<{ id: string }>(
      m,
      `UPDATE promises SET status = 'cancelled', settled_at = $2 WHERE case_id = $1 AND status = 'open' RETURNING id`,
      [kase.id, now],
    );
    if (promises.length > 0) touches.push(...(await this.holds.release(m, kase, { kinds: ['promise'] }, 'replaced by a payment plan', actor, effects)));
    const id = randomUUID();
    await m.query(`INSERT INTO payment_plans (id, case_id, status, created_at, created_by, paid_before_minor) VALUES ($1, $2, 'active', $3, $4, $5)`, [
      id,
      kase.id,
      now,
      actor,
      kase.paid_minor,
    ]);
    let cumulative = 0n;
    const rows = instalments.map((instalment, seq) => {
      const amount = toMinorUnits(instalment.amount, kase.currency)!;
      cumulative += amount;
      return { seq: seq + 1, dueDate: instalment.dueDate, amount, cumulative };
    });
    await m.query(
      `INSERT INTO plan_instalments (plan_id, seq, due_date, amount_minor, cumulative_minor, status)
       SELECT $1, * , 'due' FROM unnest($2::int[], $3::date[], $4::bigint[], $5::bigint[])`,
      [id, rows.map((r) => r.seq), rows.map((r) => r.dueDate), rows.map((r) => r.amount.toString()), rows.map((r) => r.cumulative.toString())],
    );
    touches.push({
      kind: 'plan.agreed',
      actor,
      data: {
        planId: id,
        currency: kase.currency,
        instalments: rows.map((r) => ({ seq: r.seq, dueDate: r.dueDate, amount: formatMinorUnits(r.amount, kase.currency) })),
        replacedPromises: promises.map((p) => p.id),
      },
    });
    touches.push(...(await this.holds.place(m, kase, 'plan', `payment plan of ${rows.length} instalments`, actor, effects)).touches);
    return { id, touches };
  }

  /**
   * After a payment on a locked case (`paid_minor` already counts it): a promise whose amount is
   * now paid is kept; plan instalments covered by the payments are marked paid, and a plan paid in
   * full is kept. Kept commitments release their hold.
   */
  async onPayment(m: EntityManager, kase: CommittedCase, actor: string, effects: QueueEffects): Promise<TouchInput[]> {
    const now = this.clock.now();
    const touches: TouchInput[] = [];
    const kept = await updateReturning<{ id: string; amount_minor: string }>(
      m,
      `UPDATE promises SET status = 'kept', settled_at = $3 WHERE case_id = $1 AND status = 'open' AND $2::bigint - paid_before_minor >= amount_minor RETURNING id, amount_minor`,
      [kase.id, kase.paid_minor, now],
    );
    for (const promise of kept) {
      touches.push({ kind: 'promise.kept', actor, data: { promiseId: promise.id, amount: formatMinorUnits(BigInt(promise.amount_minor), kase.currency) } });
      touches.push(...(await this.holds.release(m, kase, { kinds: ['promise'] }, 'promise kept', actor, effects)));
    }
    const [plan]: { id: string; paid_before_minor: string }[] = await m.query(
      `SELECT id, paid_before_minor FROM payment_plans WHERE case_id = $1 AND status = 'active'`,
      [kase.id],
    );
    if (!plan) return touches;
    const paidSince = BigInt(kase.paid_minor) - BigInt(plan.paid_before_minor);
    await m.query(`UPDATE plan_instalments SET status = 'paid' WHERE plan_id = $1 AND status = 'due' AND cumulative_minor <= $2::bigint`, [
      plan.id,
      paidSince.toString(),
    ]);
    const [{ open }] = await m.query(`SELECT count(*)::int AS open FROM plan_instalments WHERE plan_id = $1 AND status = 'due'`, [plan.id]);
    if (open === 0) {
      await m.query(`UPDATE payment_plans SET status = 'completed', ended_at = $2 WHERE id = $1`, [plan.id, now]);
      touches.push({ kind: 'plan.kept', actor, data: { planId: plan.id, paid: formatMinorUnits(paidSince, kase.currency) } });
      touches.push(...(await this.holds.release(m, kase, { kinds: ['plan'] }, 'payment plan completed', actor, effects)));
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
    const now = this.clock.now();
    const due: { case_id: string; kind: 'promise' | 'plan'; id: string }[] = await this.dataSource.query(
      `SELECT case_id, 'promise' AS kind, id FROM promises WHERE status = 'open' AND pause_until <= $1
       UNION ALL
       SELECT p.case_id, 'plan', p.id FROM payment_plans p JOIN cases c ON c.id = p.case_id JOIN debtors d ON d.id = c.debtor_id
       WHERE p.status = 'active' AND EXISTS (
         SELECT 1 FROM plan_instalments i WHERE i.plan_id = p.id AND i.status = 'due'
           AND ((i.due_date + 1)::timestamp AT TIME ZONE d.timezone) + $2::interval <= $1)
       LIMIT 500`,
      [now, `${Duration.fromISO(this.config.PROMISE_GRACE).as('seconds')} seconds`],
    );
    for (const item of due) await this.breakCommitment(item.case_id, item.kind, item.id);
    return due.length;
  }

  /** What the case's policy says a broken promise costs (a fixed fee) and leads to (resume, or escalate). */
  private async brokenPromiseConsequences(
    m: EntityManager,
    kase: CommittedCase,
    promiseId: string,
    afterCommit: (() => Promise<void>)[],
  ): Promise<TouchInput[]> {
    const [{ rule }]: { rule: { fee?: string; then?: 'resume' | EscalationTarget } | null }[] = await m.query(
      `SELECT p.definition->'brokenPromise' AS rule FROM cases c JOIN policy_versions p ON p.id = c.policy_version_id WHERE c.id = $1`,
      [kase.id],
    );
    const touches: TouchInput[] = [];
    const fee = rule?.fee ? toMinorUnits(rule.fee, kase.currency) : null;
    if (fee !== null && fee > 0n) {
      const now = this.clock.now();
      await m.query(
        `INSERT INTO fee_assessments (id, case_id, kind, assessed_at, as_of, days, rate_per_day, base_minor, accrued_minor, amount_minor, actor)
         VALUES ($1, $2, 'broken-promise', $3, $4, 0, 0, 0, $5, $5, 'system')`,
        [randomUUID(), kase.id, now, DateTime.fromJSDate(now, { zone: kase.timezone }).toISODate(), fee.toString()],
      );
      const [{ fees_minor }] = await updateReturning<{ fees_minor: string }>(
        m,
        'UPDATE cases SET fees_minor = fees_minor + $2::bigint WHERE id = $1 RETURNING fees_minor',
        [kase.id, fee.toString()],
      );
      touches.push({
        kind: 'fee.assessed',
        actor: 'system',
        data: {
          kind: 'broken-promise',
          promiseId,
          amount: formatMinorUnits(fee, kase.currency),
          fees: formatMinorUnits(BigInt(fees_minor), kase.currency),
          currency: kase.currency,
        },
      });
    }
    if (rule?.then && rule.then !== 'resume') {
      const escalation = await this.escalations.escalate(m, kase.id, rule.then, 'system', { reason: `promise ${promiseId} broken` });
      touches.push(...escalation.touches);
      if (escalation.afterCommit) afterCommit.push(escalation.afterCommit);
    }
    return touches;
  }

  private async breakCommitment(caseId: string, kind: 'promise' | 'plan', id: string): Promise<void> {
    const effects: QueueEffects = { enqueue: [], withdraw: [] };
    const afterCommit: (() => Promise<void>)[] = [];
    await this.dataSource.transaction(async (m) => {
      const kase = await this.lockCase(m, caseId);
      if (!kase) return;
      const now = this.clock.now();
      const paid = (since: string) => formatMinorUnits(BigInt(kase.paid_minor) - BigInt(since), kase.currency);
      let touches: TouchInput[];
      if (kind === 'promise') {
        const [promise] = await updateReturning<{ amount_minor: string; due_date: string; paid_before_minor: string }>(
          m,
          `UPDATE promises SET status = 'broken', settled_at = $2 WHERE id = $1 AND status = 'open' AND pause_until <= $2
           RETURNING amount_minor, to_char(due_date, 'YYYY-MM-DD') AS due_date, paid_before_minor`,
          [id, now],
        );
        if (!promise) return;
        touches = [
          {
            kind: 'promise.broken',
            actor: 'system',
            data: {
              promiseId: id,
              promised: formatMinorUnits(BigInt(promise.amount_minor), kase.currency),
              dueDate: promise.due_date,
              paid: paid(promise.paid_before_minor),
            },
          },
        ];
        touches.push(...(await this.brokenPromiseConsequences(m, kase, id, afterCommit)));
      } else {
        const [plan] = await updateReturning<{ paid_before_minor: string }>(
          m,
          `UPDATE payment_plans SET status = 'broken', ended_at = $2 WHERE id = $1 AND status = 'active' RETURNING paid_before_minor`,
          [id, now],
        );
        if (!plan) return;
        const missed = await updateReturning<{ seq: number; due_date: string }>(
          m,
          `UPDATE plan_instalments SET status = 'missed' WHERE plan_id = $1 AND status = 'due' AND due_date < $2::date RETURNING seq, to_char(due_date, 'YYYY-MM-DD') AS due_date`,
          [id, DateTime.fromJSDate(now, { zone: kase.timezone }).toISODate()],
        );
        touches = [{ kind: 'plan.broken', actor: 'system', data: { planId: id, missed, paid: paid(plan.paid_before_minor) } }];
      }
      if (kase.status === 'active' || kase.status === 'on_hold') {
        touches.push(...(await this.holds.release(m, kase, { kinds: [kind] }, `${kind} broken`, 'system', effects)));
      }
      await this.audit.record(m, caseId, touches);
    });
    await this.scheduler.enqueue(effects.enqueue);
    for (const task of afterCommit) await task();
  }
}
