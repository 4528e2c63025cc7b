import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { CURSOR, decodeCursor, pageOf } from '../common/cursor';
import { DomainError, NotFound, ValidationFailed } from '../common/errors';
import { AdvisoryLock, Locks } from '../database/locks.repository';
import { Transactions, type Tx } from '../database/transactions';
import { PolicyRegistry } from '../policies/policy-registry.service';
import { type Experiment, ExperimentRepository } from './experiment.repository';
import { ExperimentReports } from './experiment-reports.service';
import { DEFAULT_CURE_WITHIN, replacements } from './experiment.rules';

export interface NewExperiment {
  name: string;
  champion: string;
  challenger: string;
  challengerShare: number;
  segment?: string;
  minSample: number;
  cureWithin?: string;
  note?: string;
}

/** A refused segment's reason lists at most this many of the known ones. */
const SEGMENTS_SHOWN = 10;

/** Starting, listing, stopping and promoting experiments; each change an audited admin action. */
@Injectable()
export class Experiments {
  constructor(
    private readonly transactions: Transactions,
    private readonly locks: Locks,
    private readonly clock: Clock,
    private readonly policies: PolicyRegistry,
    private readonly experiments: ExperimentRepository,
    private readonly reports: ExperimentReports,
  ) {}

  /**
   * Starts splitting the champion's new cases. Both policies must be loaded and the segment one
   * the policies match (the body's schema keeps the challenger apart from the champion). One
   * running experiment per champion; a champion that a promotion replaced gets no new cases, so
   * it cannot be tried either.
   */
  async start(input: NewExperiment, actor: string) {
    const problems = (['champion', 'challenger'] as const)
      .filter((field) => !this.policies.has(input[field]))
      .map((field) => ({ field: `body.${field}`, reason: `is not a loaded policy key ("${input[field]}")` }));
    const segments = this.policies.segments();
    if (input.segment !== undefined && !segments.includes(input.segment)) {
      const known = segments.length > SEGMENTS_SHOWN ? `${segments.slice(0, SEGMENTS_SHOWN).join(', ')}, …` : segments.join(', ');
      problems.push({ field: 'body.segment', reason: `is not a segment the policies match (${known || 'none'})` });
    }
    if (problems.length > 0) throw new ValidationFailed(problems);
    return this.transactions.run(async (tx) => {
      // Starts and promotions one at a time, so that the checks below see every one before.
      await this.locks.take(tx, AdvisoryLock.Experiments);
      const running = await this.experiments.runningOf(tx, input.champion);
      if (running) {
        throw new DomainError(
          'conflict',
          `experiment ${running.id} ("${running.name}") is already running on policy ${input.champion}; stop or promote it first`,
          [{ field: 'body.champion', reason: `has a running experiment (${running.id})` }],
        );
      }
      const promoted = (await this.experiments.inForce(tx)).filter((e) => e.status === 'promoted');
      const replacement = replacements(promoted).get(input.champion);
      if (replacement) {
        throw new DomainError(
          'conflict',
          `policy ${input.champion} was replaced by ${replacement} on a promotion and gets no new cases; run the experiment on ${replacement}`,
          [{ field: 'body.champion', reason: `is replaced by ${replacement}` }],
        );
      }
      const now = this.clock.now();
      const experiment: Experiment = {
        id: randomUUID(),
        name: input.name,
        champion: input.champion,
        challenger: input.challenger,
        challengerShare: input.challengerShare,
        segment: input.segment ?? null,
        minSample: input.minSample,
        cureWithin: input.cureWithin ?? DEFAULT_CURE_WITHIN,
        status: 'running',
        startedAt: now,
        startedBy: actor,
        endedAt: null,
      };
      await this.experiments.insert(tx, experiment);
      await this.experiments.appendAction(tx, experiment.id, { action: 'started', actor, at: now, note: input.note ?? null, verdictAtAction: null });
      return this.detail(experiment.id, tx);
    });
  }

  async list(query: { cursor?: string; limit: number }) {
    const [startedAt, id] = query.cursor ? decodeCursor(query.cursor, CURSOR.instantAndId) : [];
    const rows = await this.experiments.list({ before: startedAt !== undefined && id !== undefined ? { startedAt, id } : undefined, limit: query.limit + 1 });
    const { page, nextCursor } = pageOf(rows, query.limit, (last) => [last.startedAt.toISOString(), last.id]);
    return { items: page, nextCursor };
  }

  /** The experiment with its record of admin actions, oldest first. */
  async detail(id: string, tx?: Tx) {
    const experiment = await this.experiments.get(tx, id);
    if (!experiment) throw new NotFound('experiment', id);
    return { ...experiment, actions: await this.experiments.actions(tx, id) };
  }

  /** Ends the experiment: new cases get the champion again; cases opened in it keep their arm and policy. */
  stop(id: string, note: string, actor: string) {
    return this.end(id, 'stopped', note, actor);
  }

  /** Ends the experiment with the challenger in force: new cases that would get the champion get the challenger. */
  promote(id: string, note: string, actor: string) {
    return this.end(id, 'promoted', note, actor);
  }

  private end(id: string, status: 'stopped' | 'promoted', note: string, actor: string) {
    return this.transactions.run(async (tx) => {
      await this.locks.take(tx, AdvisoryLock.Experiments);
      const experiment = await this.experiments.lock(tx, id);
      if (!experiment) throw new NotFound('experiment', id);
      if (experiment.status !== 'running') {
        throw new DomainError('conflict', `experiment ${id} is ${experiment.status}; only a running experiment can be ${status}`);
      }
      // The verdict the decision was taken on goes on the record with it; openings wait on the lock, so no case joins meanwhile.
      const verdictAtAction = await this.reports.verdictAtAction(experiment);
      const now = this.clock.now();
      await this.experiments.end(tx, id, status, now);
      await this.experiments.appendAction(tx, id, { action: status, actor, at: now, note, verdictAtAction });
      return this.detail(id, tx);
    });
  }
}
