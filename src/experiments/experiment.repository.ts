import { Injectable } from '@nestjs/common';
import { SqlRepository } from '../database/sql-repository';
import type { Tx } from '../database/transactions';
import { attemptSql, contactSql, curedSql, curedWithinSql, messageDeliveredSql, messageSentSql, outreachSql } from '../domain/collection-figures';
import type { Arm, ExperimentAction, ExperimentStatus, VerdictAtAction } from './experiment.rules';

export interface Experiment {
  id: string;
  name: string;
  champion: string;
  challenger: string;
  challengerShare: number;
  segment: string | null;
  minSample: number;
  /** The fixed horizon, an ISO-8601 period: a debtor counts once their first case is this old. */
  cureWithin: string;
  status: ExperimentStatus;
  startedAt: Date;
  startedBy: string;
  endedAt: Date | null;
}

export interface ExperimentActionRecord {
  action: ExperimentAction;
  actor: string;
  at: Date;
  note: string | null;
  /** For a stop or promotion: the report's verdict it was taken on. */
  verdictAtAction: VerdictAtAction | null;
}

export interface NewCaseArm {
  caseId: string;
  experimentId: string;
  arm: Arm;
  bucket: number;
}

/** An arm's debtors (each once, by their first case), those past the horizon, and those cured within it. */
export interface ArmSample {
  arm: Arm;
  debtors: number;
  pastHorizon: number;
  cured: number;
}

/** An arm's figures for the report; counts as numbers, money as minor units per currency. */
export interface ArmFigures {
  arm: Arm;
  cases: number;
  cured: number;
  attempts: number;
  contacts: number;
  messagesSent: number;
  messagesDelivered: number;
  qaFindings: number;
  recovered: { currency: string; amountMinor: bigint }[];
}

const COLUMNS = `id, name, champion, challenger, challenger_share AS "challengerShare", segment, min_sample AS "minSample",
  cure_within AS "cureWithin", status, started_at AS "startedAt", started_by AS "startedBy", ended_at AS "endedAt"`;

/** Experiments, their admin actions, and the arm each case was given. */
@Injectable()
export class ExperimentRepository extends SqlRepository {
  async insert(tx: Tx, experiment: Experiment): Promise<void> {
    await this.run(
      tx,
      `INSERT INTO experiments (id, name, champion, challenger, challenger_share, segment, min_sample, cure_within, status, started_at, started_by, ended_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        experiment.id,
        experiment.name,
        experiment.champion,
        experiment.challenger,
        experiment.challengerShare,
        experiment.segment,
        experiment.minSample,
        experiment.cureWithin,
        experiment.status,
        experiment.startedAt,
        experiment.startedBy,
        experiment.endedAt,
      ],
    );
  }

  get(tx: Tx | undefined, id: string): Promise<Experiment | undefined> {
    return this.row(tx, `SELECT ${COLUMNS} FROM experiments WHERE id = $1`, [id]);
  }

  /** Locks the experiment row against a concurrent change (the caller holds the experiments lock). */
  lock(tx: Tx, id: string): Promise<Experiment | undefined> {
    return this.row(tx, `SELECT ${COLUMNS} FROM experiments WHERE id = $1 FOR UPDATE`, [id]);
  }

  /** Newest first. */
  list(filter: { before?: { startedAt: string; id: string }; limit: number }): Promise<Experiment[]> {
    const before = filter.before ? [filter.before.startedAt, filter.before.id] : [null, null];
    return this.rows(
      undefined,
      `SELECT ${COLUMNS} FROM experiments
       WHERE $1::timestamptz IS NULL OR (started_at, id) < ($1::timestamptz, $2::uuid)
       ORDER BY started_at DESC, id DESC LIMIT $3`,
      [...before, filter.limit],
    );
  }

  runningOf(tx: Tx, champion: string): Promise<Experiment | undefined> {
    return this.row(tx, `SELECT ${COLUMNS} FROM experiments WHERE champion = $1 AND status = 'running'`, [champion]);
  }

  /**
   * The experiments that shape a new case's policy: the promoted ones in the order they were
   * promoted, then the running ones. The caller holds the experiments lock (shared, for an
   * opening), so the answer cannot change before it commits.
   */
  inForce(tx: Tx): Promise<Experiment[]> {
    return this.rows(tx, `SELECT ${COLUMNS} FROM experiments WHERE status IN ('running', 'promoted') ORDER BY "endedAt" NULLS LAST, "startedAt", id`);
  }

  /** Ends a running experiment. */
  async end(tx: Tx, id: string, status: Exclude<ExperimentStatus, 'running'>, at: Date): Promise<void> {
    await this.run(tx, `UPDATE experiments SET status = $2, ended_at = $3 WHERE id = $1 AND status = 'running'`, [id, status, at]);
  }

  async appendAction(tx: Tx, experimentId: string, action: ExperimentActionRecord): Promise<void> {
    await this.run(tx, 'INSERT INTO experiment_actions (experiment_id, action, actor, at, note, verdict_at_action) VALUES ($1, $2, $3, $4, $5, $6)', [
      experimentId,
      action.action,
      action.actor,
      action.at,
      action.note,
      action.verdictAtAction === null ? null : JSON.stringify(action.verdictAtAction),
    ]);
  }

  /** Oldest first. */
  actions(tx: Tx | undefined, experimentId: string): Promise<ExperimentActionRecord[]> {
    return this.rows(
      tx,
      'SELECT action, actor, at, note, verdict_at_action AS "verdictAtAction" FROM experiment_actions WHERE experiment_id = $1 ORDER BY id',
      [experimentId],
    );
  }

  async insertArms(tx: Tx, arms: readonly NewCaseArm[], at: Date): Promise<void> {
    if (arms.length === 0) return;
    await this.run(
      tx,
      `INSERT INTO case_arms (case_id, experiment_id, arm, bucket, assigned_at)
       SELECT case_id, experiment_id, arm, bucket, $5 FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::float8[]) AS a(case_id, experiment_id, arm, bucket)`,
      [arms.map((a) => a.caseId), arms.map((a) => a.experimentId), arms.map((a) => a.arm), arms.map((a) => a.bucket), at],
    );
  }

  /** The case's experiment and arm, if it was opened in one. */
  armOfCase(caseId: string): Promise<{ experimentId: string; name: string; arm: Arm } | undefined> {
    return this.row(
      undefined,
      `SELECT a.experiment_id AS "experimentId", e.name, a.arm FROM case_arms a JOIN experiments e ON e.id = a.experiment_id WHERE a.case_id = $1`,
      [caseId],
    );
  }

  /**
   * The test's sample per arm: each debtor once, by their first case in the experiment (the
   * earliest opened); past the horizon once that case is `cureWithin` old at `now`, and cured if
   * it was cured within `cureWithin` of its opening.
   */
  async sample(experiment: Pick<Experiment, 'id' | 'cureWithin'>, now: Date): Promise<ArmSample[]> {
    const rows = await this.rows<{ arm: Arm; debtors: string; pastHorizon: string; cured: string }>(
      undefined,
      `WITH first AS (
         SELECT DISTINCT ON (c.debtor_id) a.arm, c.status, c.opened_at, c.closed_at, c.opened_at + $2::interval <= $3 AS past
         FROM case_arms a JOIN cases c ON c.id = a.case_id
         WHERE a.experiment_id = $1
         ORDER BY c.debtor_id, c.opened_at, c.id
       )
       SELECT arm, count(*) AS debtors, count(*) FILTER (WHERE past) AS "pastHorizon",
         count(*) FILTER (WHERE past AND ${curedWithinSql('first', '$2::interval')}) AS cured
       FROM first GROUP BY arm`,
      [experiment.id, experiment.cureWithin, now],
    );
    return rows.map((row) => ({ arm: row.arm, debtors: Number(row.debtors), pastHorizon: Number(row.pastHorizon), cured: Number(row.cured) }));
  }

  /**
   * Each arm's cases, cured cases, people's attempts and contacts, messages (as the collection
   * figures define them), QA findings that were not overturned on review, and the payments
   * received on its cases per currency.
   */
  async figures(experimentId: string): Promise<ArmFigures[]> {
    const [counts, recovered] = await Promise.all([
      this.rows<Record<Exclude<keyof ArmFigures, 'recovered'>, string> & { arm: Arm }>(
        undefined,
        `SELECT a.arm, count(*) AS cases, count(*) FILTER (WHERE ${curedSql('c')}) AS cured,
           COALESCE(sum(t.attempts), 0) AS attempts, COALESCE(sum(t.contacts), 0) AS contacts,
           COALESCE(sum(t.sent), 0) AS "messagesSent", COALESCE(sum(t.delivered), 0) AS "messagesDelivered",
           COALESCE(sum(f.findings), 0) AS "qaFindings"
         FROM case_arms a
         JOIN cases c ON c.id = a.case_id
         CROSS JOIN LATERAL (
           SELECT count(*) FILTER (WHERE ${attemptSql('t')}) AS attempts, count(*) FILTER (WHERE ${contactSql('t')}) AS contacts,
             count(*) FILTER (WHERE ${messageSentSql('t')}) AS sent, count(*) FILTER (WHERE ${messageDeliveredSql('t')}) AS delivered
           FROM touches t WHERE t.case_id = a.case_id AND ${outreachSql('t')}
         ) t
         CROSS JOIN LATERAL (SELECT count(*) AS findings FROM qa_findings WHERE case_id = a.case_id AND status <> 'overturned') f
         WHERE a.experiment_id = $1
         GROUP BY a.arm`,
        [experimentId],
      ),
      this.rows<{ arm: Arm; currency: string; amountMinor: string }>(
        undefined,
        `SELECT a.arm, p.currency, sum(p.amount_minor)::text AS "amountMinor"
         FROM case_arms a JOIN payments p ON p.case_id = a.case_id
         WHERE a.experiment_id = $1
         GROUP BY a.arm, p.currency ORDER BY p.currency`,
        [experimentId],
      ),
    ]);
    return counts.map((row) => ({
      arm: row.arm,
      cases: Number(row.cases),
      cured: Number(row.cured),
      attempts: Number(row.attempts),
      contacts: Number(row.contacts),
      messagesSent: Number(row.messagesSent),
      messagesDelivered: Number(row.messagesDelivered),
      qaFindings: Number(row.qaFindings),
      recovered: recovered.filter((r) => r.arm === row.arm).map((r) => ({ currency: r.currency, amountMinor: BigInt(r.amountMinor) })),
    }));
  }
}
