import { Injectable } from '@nestjs/common';
import { Gather } from '../database/gather';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import type { NoticeChannel } from '../domain/delivery-status';
import type { PolicyStep } from '../domain/policy';
import type { CaseStatus, StepStatus } from '../domain/statuses';
import type { DueStep } from '../domain/step';
import type { ChainHead } from '../domain/touch-chain';

export interface NewStep {
  id: string;
  caseId: string;
  index: number;
  step: PolicyStep;
  dueAt: Date;
  status: 'pending' | 'skipped';
  /** Why a step was planned skipped. */
  outcome: string | null;
}

/** A step with what running it needs, read with the step and case rows locked. */
export interface RunnableStep {
  id: string;
  caseId: string;
  index: number;
  status: StepStatus;
  dueAt: Date;
  definition: PolicyStep;
  /** Who asked for a one-off step (a letter sent now); null for the ladder's steps. */
  requestedBy: string | null;
  case: { status: CaseStatus; currency: string; balanceMinor: bigint; head: ChainHead };
  debtor: {
    id: string;
    name: string;
    email: string | null;
    phone: string | null;
    locale: string | null;
    timezone: string;
    /** ISO 3166 code from the address, when it holds one. */
    country: string | null;
    unsubscribeToken: string;
    ceaseContact: boolean;
    /** Reminder channels the debtor declined on the self-service page. */
    declinedChannels: NoticeChannel[];
    deceased: boolean;
    bankrupt: boolean;
  };
  invoice: { ref: string; contractRef: string | null; dueDate: string | null; dueAt: Date };
}

export interface ScheduledStep {
  id: string;
  index: number;
  definition: PolicyStep;
  dueAt: Date;
  status: StepStatus;
  outcome: string | null;
  attempts: number;
  lastError: string | null;
  finishedAt: Date | null;
}

interface RunnableRow {
  id: string;
  case_id: string;
  step_index: number;
  status: StepStatus;
  due_at: Date;
  definition: PolicyStep;
  requested_by: string | null;
  case_status: CaseStatus;
  currency: string;
  balance_minor: string;
  touch_seq: number;
  touch_hash: string;
  debtor_id: string;
  debtor_name: string;
  email: string | null;
  phone: string | null;
  locale: string | null;
  timezone: string;
  country: string | null;
  unsubscribe_token: string;
  cease_contact: boolean;
  declined_channels: NoticeChannel[];
  deceased: boolean;
  bankrupt: boolean;
  invoice_ref: string;
  contract_ref: string | null;
  due_date: string | null;
  invoice_due_at: Date;
}

const WAITING = `('pending', 'deferred')`;

const toRunnable = (row: RunnableRow): RunnableStep => ({
  id: row.id,
  caseId: row.case_id,
  index: row.step_index,
  status: row.status,
  dueAt: row.due_at,
  definition: row.definition,
  requestedBy: row.requested_by,
  case: { status: row.case_status, currency: row.currency, balanceMinor: BigInt(row.balance_minor), head: { seq: row.touch_seq, hash: row.touch_hash } },
  debtor: {
    id: row.debtor_id,
    name: row.debtor_name,
    email: row.email,
    phone: row.phone,
    locale: row.locale,
    timezone: row.timezone,
    country: row.country,
    unsubscribeToken: row.unsubscribe_token,
    ceaseContact: row.cease_contact,
    declinedChannels: row.declined_channels,
    deceased: row.deceased,
    bankrupt: row.bankrupt,
  },
  invoice: { ref: row.invoice_ref, contractRef: row.contract_ref, dueDate: row.due_date, dueAt: row.invoice_due_at },
});

const asDueStep = (row: { id: string; due_at: Date }): DueStep => ({ id: row.id, dueAt: row.due_at });

/** The planned steps of every case (`scheduled_steps`): the truth that queue jobs only project. */
@Injectable()
export class StepRepository extends SqlRepository {
  /** Inserts a case's planned steps; a skipped one carries its reason as outcome. */
  async insertMany(tx: Tx, steps: readonly NewStep[], at: Date): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO scheduled_steps (id, case_id, step_index, action, definition, due_at, status, outcome, updated_at)
       SELECT *, $9::timestamptz FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::jsonb[], $6::timestamptz[], $7::text[], $8::text[])`,
      [
        steps.map((s) => s.id),
        steps.map((s) => s.caseId),
        steps.map((s) => s.index),
        steps.map((s) => s.step.action),
        steps.map((s) => JSON.stringify(s.step)),
        steps.map((s) => s.dueAt),
        steps.map((s) => s.status),
        steps.map((s) => s.outcome),
        at,
      ],
    );
  }

  /**
   * Adds a one-off step, due at `at`, after the ladder's steps (its index is at least `fromIndex`,
   * so a schedule lists it last); returns its index.
   */
  async insertRequested(tx: Tx, step: { id: string; caseId: string; definition: PolicyStep; at: Date; by: string }, fromIndex: number): Promise<number> {
    const row = await this.row<{ index: number }>(
      tx,
      `SELECT GREATEST($2::int, COALESCE(max(step_index) + 1, 0)) AS index FROM scheduled_steps WHERE case_id = $1`,
      [step.caseId, fromIndex],
    );
    const index = row?.index ?? fromIndex;
    await this.run(
      tx,
      `INSERT INTO scheduled_steps (id, case_id, step_index, action, definition, due_at, status, requested_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $6)`,
      [step.id, step.caseId, index, step.definition.action, JSON.stringify(step.definition), step.at, step.by],
    );
    return index;
  }

  /**
   * Locks the step and its case and reads what running it needs, then takes the debtor's contact
   * lock, before the contact history can be read (see database/locks.ts). Concurrent calls in one
   * transaction are gathered into one statement (Transactions.runGathered).
   */
  lockForRun(tx: Tx, stepId: string): Promise<RunnableStep | undefined> {
    return this.runnable.call(tx, stepId);
  }

  /** Every lock in the documented order: step and case rows by case id, then the debtors' contact locks by debtor id. */
  private readonly runnable = new Gather<string, RunnableStep | undefined>(async (tx, stepIds) => {
    const rows = await this.rows<RunnableRow>(
      tx,
      `WITH locked AS (
         SELECT s.id, s.case_id, s.step_index, s.status, s.due_at, s.definition, s.requested_by,
           c.status AS case_status, trim(c.currency) AS currency, c.balance_minor, c.touch_seq, c.touch_hash, c.debtor_id,
           d.name AS debtor_name, d.email, d.phone, d.locale, d.timezone, d.unsubscribe_token, d.cease_contact, d.deceased, d.bankrupt, d.declined_channels,
           CASE WHEN upper(trim(d.address->>'country')) ~ '^[A-Z]{2}$' THEN upper(trim(d.address->>'country')) END AS country,
           i.external_id AS invoice_ref, i.contract_ref, to_char(i.due_date, 'YYYY-MM-DD') AS due_date, i.due_at AS invoice_due_at
         FROM scheduled_steps s JOIN cases c ON c.id = s.case_id JOIN debtors d ON d.id = c.debtor_id JOIN invoices i ON i.id = c.invoice_id
         WHERE s.id = ANY($1::uuid[]) ORDER BY c.id, s.id FOR UPDATE OF s, c
       ), contact_locks AS (
         SELECT count(pg_advisory_xact_lock(hashtextextended('contact:' || debtor_id, 0))) FROM (SELECT DISTINCT debtor_id FROM locked ORDER BY debtor_id) debtor
       )
       SELECT locked.* FROM locked, contact_locks`,
      [stepIds],
    );
    const byId = new Map(rows.map((row) => [row.id, toRunnable(row)]));
    // PostgreSQL answers ids in lower case.
    return stepIds.map((id) => byId.get(id.toLowerCase()));
  }, String);

  /** Locks the step and its case to record a failed run. */
  lockForFailure(
    tx: Tx,
    stepId: string,
  ): Promise<{ id: string; caseId: string; index: number; status: StepStatus; action: PolicyStep['action']; channel: string | null } | undefined> {
    return this.row(
      tx,
      `SELECT s.id, s.case_id AS "caseId", s.step_index AS index, s.status, s.action, s.definition->>'channel' AS channel
       FROM scheduled_steps s JOIN cases c ON c.id = s.case_id WHERE s.id = $1 FOR UPDATE OF s, c`,
      [stepId],
    );
  }

  /** Settles a step for now: done, skipped, cancelled or failed, with the outcome that says why. */
  async finish(tx: Tx, stepId: string, status: StepStatus, outcome: string, at: Date): Promise<void> {
    await this.run(tx, `UPDATE scheduled_steps SET status = $2, outcome = $3, finished_at = $4, updated_at = $4 WHERE id = $1`, [stepId, status, outcome, at]);
  }

  /** Marks a letter step done once its emails are out; a step already done stays as it is. */
  async finishLetters(tx: Tx, stepId: string, outcome: string, at: Date): Promise<void> {
    await this.run(tx, `UPDATE scheduled_steps SET status = 'done', outcome = $2, finished_at = $3, updated_at = $3 WHERE id = $1 AND status <> 'done'`, [
      stepId,
      outcome,
      at,
    ]);
  }

  /** The step waits until `until` (the contact gate said not now). */
  async defer(tx: Tx, stepId: string, until: Date, at: Date): Promise<void> {
    await this.run(tx, `UPDATE scheduled_steps SET status = 'deferred', due_at = $2, updated_at = $3 WHERE id = $1`, [stepId, until, at]);
  }

  /** A run has started acting on the step (counted as an attempt). */
  async markRunning(tx: Tx, stepId: string, at: Date): Promise<void> {
    await this.run(tx, `UPDATE scheduled_steps SET status = 'running', attempts = attempts + 1, started_at = $2, updated_at = $2 WHERE id = $1`, [stepId, at]);
  }

  /** Notes a failed run's error; a run whose claim rolled back left no attempt behind, so it is counted here. */
  /**
   * A failed attempt: the error kept, an attempt counted unless the run already counted it. With
   * `retrying` a running step goes back to pending, so the row agrees with the retry waiting in
   * Redis, and the reconciler re-adds that retry within RECONCILE_EVERY if Redis loses it.
   */
  async noteFailure(tx: Tx, stepId: string, error: string, retrying = false): Promise<void> {
    await this.run(
      tx,
      `UPDATE scheduled_steps SET last_error = $2, attempts = attempts + CASE WHEN status = 'running' THEN 0 ELSE 1 END,
         status = CASE WHEN $3 AND status = 'running' THEN 'pending' ELSE status END WHERE id = $1`,
      [stepId, error, retrying],
    );
  }

  /** Whether a payment-demand letter step of the case, other than the given one, has yet to finish (waiting or running). */
  async demandPlanned(tx: Tx, caseId: string, exceptStepId: string | null): Promise<boolean> {
    const row = await this.row<{ planned: boolean }>(
      tx,
      `SELECT EXISTS (SELECT 1 FROM scheduled_steps WHERE case_id = $1 AND id IS DISTINCT FROM $2 AND status IN ('pending', 'deferred', 'running')
         AND action = 'letter' AND definition->>'letter' = 'payment-demand') AS planned`,
      [caseId, exceptStepId],
    );
    return row!.planned;
  }

  /** The case's next waiting step other than the given one. */
  async nextWaiting(tx: Tx, caseId: string, exceptStepId: string): Promise<DueStep | undefined> {
    const row = await this.row<{ next: { id: string; dueAt: string } | null }>(tx, 'SELECT next_pending_step($1, $2) AS next', [caseId, exceptStepId]);
    return row?.next ? { id: row.next.id, dueAt: new Date(row.next.dueAt) } : undefined;
  }

  /** The ids of a case's waiting steps (their jobs are withdrawn while it is on hold). */
  async waitingIds(tx: Tx, caseId: string): Promise<string[]> {
    const rows = await this.rows<{ id: string }>(tx, `SELECT id FROM scheduled_steps WHERE case_id = $1 AND status IN ${WAITING}`, [caseId]);
    return rows.map((row) => row.id);
  }

  /** Moves a case's waiting steps later by the time it was paused; returns them. */
  async shiftWaiting(tx: Tx, caseId: string, pausedMs: number, at: Date): Promise<DueStep[]> {
    const rows = await this.changed<{ id: string; due_at: Date }>(
      tx,
      `UPDATE scheduled_steps SET due_at = due_at + make_interval(secs => $2::double precision / 1000), updated_at = $3
       WHERE case_id = $1 AND status IN ${WAITING} RETURNING id, due_at`,
      [caseId, pausedMs, at],
    );
    return rows.map(asDueStep);
  }

  /** Cancels a closing case's steps that have not run (waiting or failed); returns them. */
  cancelUnrun(tx: Tx, caseId: string, reason: string, at: Date): Promise<{ id: string; step_index: number }[]> {
    return this.changed(
      tx,
      `UPDATE scheduled_steps SET status = 'cancelled', outcome = $2, updated_at = $3
       WHERE case_id = $1 AND status IN ('pending', 'deferred', 'failed') RETURNING id, step_index`,
      [caseId, reason, at],
    );
  }

  /**
   * Steps of active cases due by `horizon` after the keyset position that should have a job: the
   * waiting ones, and those left running since before `staleBefore` (their worker is gone). The
   * status test repeats scheduled_steps_due's predicate as one condition: written as an OR of
   * statuses, the planner read the index once per arm and sorted every step inside the horizon
   * for each page (docs/scaling.md); this way it walks the index in order and stops at the page.
   */
  async dueWithin(tx: Tx, horizon: Date, after: DueStep, staleBefore: Date, limit: number): Promise<DueStep[]> {
    const rows = await this.rows<{ id: string; due_at: Date }>(
      tx,
      `SELECT s.id, s.due_at FROM scheduled_steps s JOIN cases c ON c.id = s.case_id
       WHERE c.status = 'active' AND s.due_at <= $1 AND (s.due_at, s.id) > ($2, $3)
         AND s.status IN ('pending', 'running', 'deferred') AND (s.status <> 'running' OR s.started_at < $4)
       ORDER BY s.due_at, s.id LIMIT $5`,
      [horizon, after.dueAt, after.id, staleBefore, limit],
    );
    return rows.map(asDueStep);
  }

  /**
   * The pending steps of these cases due by the end of `asOf` on each debtor's calendar; with
   * `runAt` they are brought forward to run then (a dunning run), else only read (a dry run).
   */
  async dueBy(tx: Tx, caseIds: readonly string[], asOf: string, runAt?: Date): Promise<(DueStep & { caseId: string })[]> {
    const rows = runAt
      ? await this.changed<{ case_id: string; id: string; due_at: Date }>(
          tx,
          `UPDATE scheduled_steps s SET due_at = LEAST(s.due_at, $3), updated_at = $3 FROM cases c JOIN debtors d ON d.id = c.debtor_id
           WHERE c.id = s.case_id AND s.case_id = ANY($1::uuid[]) AND s.status = 'pending' AND s.due_at <= local_day_end($2::date, d.timezone)
           RETURNING s.case_id, s.id, s.due_at`,
          [caseIds, asOf, runAt],
        )
      : await this.rows<{ case_id: string; id: string; due_at: Date }>(
          tx,
          `SELECT s.case_id, s.id, s.due_at FROM scheduled_steps s JOIN cases c ON c.id = s.case_id JOIN debtors d ON d.id = c.debtor_id
           WHERE s.case_id = ANY($1::uuid[]) AND s.status = 'pending' AND s.due_at <= local_day_end($2::date, d.timezone)`,
          [caseIds, asOf],
        );
    return rows.map((row) => ({ ...asDueStep(row), caseId: row.case_id }));
  }

  /** A case's schedule, in ladder order. */
  ofCase(caseId: string): Promise<ScheduledStep[]> {
    return this.rows(
      undefined,
      `SELECT id, step_index AS index, definition, due_at AS "dueAt", status, outcome, attempts, last_error AS "lastError", finished_at AS "finishedAt"
       FROM scheduled_steps WHERE case_id = $1 ORDER BY step_index`,
      [caseId],
    );
  }

  /** Step id → case id, for the steps that exist. */
  async caseIds(stepIds: readonly string[]): Promise<Map<string, string>> {
    const rows = await this.rows<{ id: string; case_id: string }>(undefined, 'SELECT id, case_id FROM scheduled_steps WHERE id = ANY($1::uuid[])', [stepIds]);
    return new Map(rows.map((row) => [row.id, row.case_id]));
  }
}
