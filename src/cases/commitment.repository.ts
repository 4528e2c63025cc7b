import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';

export interface NewPromise {
  id: string;
  caseId: string;
  amountMinor: bigint;
  dueDate: string;
  pauseUntil: Date;
  paidBeforeMinor: bigint;
  at: Date;
  by: string;
  source: string;
}

export interface NewPlan {
  id: string;
  caseId: string;
  at: Date;
  by: string;
  paidBeforeMinor: bigint;
  instalments: readonly { seq: number; dueDate: string; amountMinor: bigint; cumulativeMinor: bigint }[];
}

/** Promises to pay and payment plans with their instalments. */
@Injectable()
export class CommitmentRepository extends SqlRepository {
  /** Cancels the case's open promise (a newer promise or a plan replaces it); returns the ids. */
  async cancelOpenPromises(tx: Tx, caseId: string, at: Date): Promise<string[]> {
    const rows = await this.changed<{ id: string }>(
      tx,
      `UPDATE promises SET status = 'cancelled', settled_at = $2 WHERE case_id = $1 AND status = 'open' RETURNING id`,
      [caseId, at],
    );
    return rows.map((row) => row.id);
  }

  async insertPromise(tx: Tx, promise: NewPromise): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO promises (id, case_id, amount_minor, due_date, pause_until, paid_before_minor, status, made_at, made_by, source)
       VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9)`,
      [
        promise.id,
        promise.caseId,
        promise.amountMinor.toString(),
        promise.dueDate,
        promise.pauseUntil,
        promise.paidBeforeMinor.toString(),
        promise.at,
        promise.by,
        promise.source,
      ],
    );
  }

  /** Keeps the open promises that the payments since each was made now cover (`paidMinor` counts every payment). */
  async keepPaidPromises(tx: Tx, caseId: string, paidMinor: bigint, at: Date): Promise<{ id: string; amountMinor: bigint }[]> {
    const rows = await this.changed<{ id: string; amount_minor: string }>(
      tx,
      `UPDATE promises SET status = 'kept', settled_at = $3 WHERE case_id = $1 AND status = 'open' AND $2::bigint - paid_before_minor >= amount_minor
       RETURNING id, amount_minor`,
      [caseId, paidMinor.toString(), at],
    );
    return rows.map((row) => ({ id: row.id, amountMinor: BigInt(row.amount_minor) }));
  }

  /** Breaks an open promise whose pause has ended; undefined when it is no longer open or not yet due. */
  async breakPromise(tx: Tx, id: string, at: Date): Promise<{ amountMinor: bigint; dueDate: string; paidBeforeMinor: bigint } | undefined> {
    const [row] = await this.changed<{ amount_minor: string; due_date: string; paid_before_minor: string }>(
      tx,
      `UPDATE promises SET status = 'broken', settled_at = $2 WHERE id = $1 AND status = 'open' AND pause_until <= $2
       RETURNING amount_minor, to_char(due_date, 'YYYY-MM-DD') AS due_date, paid_before_minor`,
      [id, at],
    );
    return row && { amountMinor: BigInt(row.amount_minor), dueDate: row.due_date, paidBeforeMinor: BigInt(row.paid_before_minor) };
  }

  async activePlan(tx: Tx, caseId: string): Promise<{ id: string; paidBeforeMinor: bigint } | undefined> {
    const row = await this.row<{ id: string; paid_before_minor: string }>(
      tx,
      `SELECT id, paid_before_minor FROM payment_plans WHERE case_id = $1 AND status = 'active'`,
      [caseId],
    );
    return row && { id: row.id, paidBeforeMinor: BigInt(row.paid_before_minor) };
  }

  async insertPlan(tx: Tx, plan: NewPlan): Promise<void> {
    await this.run(tx, `INSERT INTO payment_plans (id, case_id, status, created_at, created_by, paid_before_minor) VALUES ($1, $2, 'active', $3, $4, $5)`, [
      plan.id,
      plan.caseId,
      plan.at,
      plan.by,
      plan.paidBeforeMinor.toString(),
    ]);
    await this.run(
      tx,
      `INSERT INTO plan_instalments (plan_id, seq, due_date, amount_minor, cumulative_minor, status)
       SELECT $1, * , 'due' FROM unnest($2::int[], $3::date[], $4::bigint[], $5::bigint[])`,
      [
        plan.id,
        plan.instalments.map((i) => i.seq),
        plan.instalments.map((i) => i.dueDate),
        plan.instalments.map((i) => i.amountMinor.toString()),
        plan.instalments.map((i) => i.cumulativeMinor.toString()),
      ],
    );
  }

  /** Marks the instalments the payments since the plan began cover; returns how many are still due. */
  async payInstalments(tx: Tx, planId: string, paidSinceMinor: bigint): Promise<number> {
    await this.run(tx, `UPDATE plan_instalments SET status = 'paid' WHERE plan_id = $1 AND status = 'due' AND cumulative_minor <= $2::bigint`, [
      planId,
      paidSinceMinor.toString(),
    ]);
    const row = await this.row<{ open: number }>(tx, `SELECT count(*)::int AS open FROM plan_instalments WHERE plan_id = $1 AND status = 'due'`, [planId]);
    return row?.open ?? 0;
  }

  async completePlan(tx: Tx, planId: string, at: Date): Promise<void> {
    await this.run(tx, `UPDATE payment_plans SET status = 'completed', ended_at = $2 WHERE id = $1`, [planId, at]);
  }

  /** Breaks an active plan and marks its instalments due before `today` missed; undefined when it is not active. */
  async breakPlan(tx: Tx, id: string, at: Date, today: string): Promise<{ paidBeforeMinor: bigint; missed: { seq: number; due_date: string }[] } | undefined> {
    const [plan] = await this.changed<{ paid_before_minor: string }>(
      tx,
      `UPDATE payment_plans SET status = 'broken', ended_at = $2 WHERE id = $1 AND status = 'active' RETURNING paid_before_minor`,
      [id, at],
    );
    if (!plan) return undefined;
    const missed = await this.changed<{ seq: number; due_date: string }>(
      tx,
      `UPDATE plan_instalments SET status = 'missed' WHERE plan_id = $1 AND status = 'due' AND due_date < $2::date RETURNING seq, to_char(due_date, 'YYYY-MM-DD') AS due_date`,
      [id, today],
    );
    return { paidBeforeMinor: BigInt(plan.paid_before_minor), missed };
  }

  /**
   * Up to `limit` commitments of open cases whose time has passed without the money: open promises
   * past their pause, and active plans with an instalment due more than `graceSeconds` before
   * `now` (each instalment day ends at local midnight on the debtor's calendar). A closed case's
   * commitments no longer matter: there is no ladder left to resume.
   */
  due(now: Date, graceSeconds: number, limit: number): Promise<{ caseId: string; kind: 'promise' | 'plan'; id: string }[]> {
    return this.rows(
      undefined,
      `SELECT p.case_id AS "caseId", 'promise' AS kind, p.id FROM promises p JOIN cases c ON c.id = p.case_id
       WHERE p.status = 'open' AND p.pause_until <= $1 AND c.status IN ('active', 'on_hold')
       UNION ALL
       SELECT p.case_id, 'plan', p.id FROM payment_plans p JOIN cases c ON c.id = p.case_id JOIN debtors d ON d.id = c.debtor_id
       WHERE p.status = 'active' AND c.status IN ('active', 'on_hold') AND EXISTS (
         SELECT 1 FROM plan_instalments i WHERE i.plan_id = p.id AND i.status = 'due'
           AND ((i.due_date + 1)::timestamp AT TIME ZONE d.timezone) + $2::interval <= $1)
       LIMIT $3`,
      [now, `${graceSeconds} seconds`, limit],
    );
  }
}
