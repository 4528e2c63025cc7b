import { Inject, Injectable } from '@nestjs/common';
import { DateTime, Duration } from 'luxon';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { ContactGate } from '../compliance/contact-gate.service';
import { Holidays } from '../compliance/holidays.service';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AdvisoryLock, Locks } from '../database/locks.repository';
import { Transactions, type Tx } from '../database/transactions';
import { HISTORY_LOOKBACK_MS } from '../domain/contact-gate';
import { type ContactRecord, followUpDue, type Inspection, type Scorecard, scoreTouch } from '../domain/quality';
import type { TouchInput } from '../domain/touch-kinds';
import { OnSweep } from '../jobs/job-handlers';
import { QueueName, SweepName } from '../jobs/job-names';
import { JobQueue } from '../jobs/job-queue.service';
import { ContactContents } from './contact-content';
import { type Candidate, type NewFinding, QualityRepository } from './quality.repository';
import { QaRubric } from './rubric.service';
import { nextState } from '../domain/touch-watermark';

/**
 * Scores contacts after the fact, off the hot path: a sweep takes the unscored contacts in touch
 * id order, a batch per transaction (scores, findings and `qa.scored` touches commit together, or
 * not at all), and moves a watermark past what is done. A touch id is taken before its transaction
 * commits, so a lower id can appear after a higher one was scored: the watermark moves only up to
 * a sequence value read earlier, once every transaction open at that read has ended. Promises are
 * scored once their follow-up is due. Sends come first: while steps wait to run, a round gives
 * way to them, up to QA_SCORING_MAX_LAG behind.
 */
@Injectable()
export class QaScoring {
  /** When this process last saw scoring caught up (wall time: the lag is the process's, not the case's). */
  private caughtUpAt: number | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: Transactions,
    private readonly locks: Locks,
    private readonly quality: QualityRepository,
    private readonly audit: AuditService,
    private readonly gate: ContactGate,
    private readonly holidays: Holidays,
    private readonly contents: ContactContents,
    private readonly rubric: QaRubric,
    private readonly clock: Clock,
    private readonly jobs: JobQueue,
  ) {}

  /** Scores batches until caught up; answers how many touches were scored. */
  @OnSweep(SweepName.QaScoring)
  async sweep(): Promise<number> {
    if (this.config.QA_SCORING === 'off') return 0;
    let scored = 0;
    for (;;) {
      if (await this.givesWay()) return scored;
      const batch = await this.transactions.run((tx) => this.contactBatch(tx));
      scored += batch.scored;
      if (!batch.more) break;
    }
    this.caughtUpAt = Date.now();
    for (;;) {
      const batch = await this.transactions.run((tx) => this.promiseBatch(tx));
      scored += batch;
      if (batch < this.config.QA_SCORING_BATCH) break;
    }
    return scored;
  }

  /** A month-end burst sends first and is scored after; scoring lags by at most QA_SCORING_MAX_LAG. */
  private async givesWay(): Promise<boolean> {
    this.caughtUpAt ??= Date.now();
    if (Date.now() - this.caughtUpAt >= this.config.QA_SCORING_MAX_LAG) return false;
    // A queue that cannot be read does not hold scoring back.
    return (await this.jobs.waiting(QueueName.Steps).catch(() => 0)) > 0;
  }

  private async contactBatch(tx: Tx): Promise<{ scored: number; more: boolean }> {
    if (!(await this.locks.tryTake(tx, AdvisoryLock.QaScoring))) return { scored: 0, more: false };
    const state = await this.quality.state(tx);
    const limit = this.config.QA_SCORING_BATCH;
    const { touches, settled, sequence, xid } = await this.quality.contactCandidates(tx, state, limit);
    const scored = await this.score(tx, touches);
    const full = touches.length === limit;
    await this.quality.saveState(tx, nextState(state, { settled, full, lastId: touches.at(-1)?.id, sequence, xid }));
    return { scored, more: full };
  }

  /**
   * Promises whose follow-up is due; those due earliest first, so the ones not yet due never crowd
   * them out. A promise is never recorded for a past day, so once a round has seen every promise
   * up to a day by which all are surely due, no later round needs to look at them again.
   */
  private async promiseBatch(tx: Tx): Promise<number> {
    const within = this.rubric.promiseWithin();
    if (within === null) return 0;
    if (!(await this.locks.tryTake(tx, AdvisoryLock.QaScoring))) return 0;
    const now = this.clock.now();
    // A superset of the due ones (no zone is ahead of UTC by a day): the debtor's calendar decides.
    const dueBy = DateTime.fromJSDate(now, { zone: 'UTC' }).minus(Duration.fromISO(within)).startOf('day');
    const limit = this.config.QA_SCORING_BATCH;
    const candidates = await this.quality.promiseCandidates(tx, await this.quality.promisesThrough(tx), dueBy.toISODate()!, limit);
    const due = candidates.filter((touch) => followUpDue(String(touch.data.dueDate), touch.timezone, within, now));
    await this.score(tx, due);
    // Two days before dueBy every promise is due in any zone (UTC-12 ends its day 12 h after UTC).
    if (candidates.length < limit) await this.quality.savePromisesThrough(tx, dueBy.minus({ days: 2 }).toISODate()!);
    return due.length;
  }

  /** Scores touches: a score row each (once only), a finding per failed rule, a `qa.scored` touch on each case. */
  private async score(tx: Tx, touches: readonly Candidate[]): Promise<number> {
    if (touches.length === 0) return 0;
    const now = this.clock.now();
    const earliest = Math.min(...touches.map((touch) => contactTime(touch).getTime()));
    const [trails, contacts] = await Promise.all([
      this.quality.trails(tx, [...new Set(touches.map((touch) => touch.caseId))]),
      this.quality.debtorContacts(tx, [...new Set(touches.map((touch) => touch.debtorId))], new Date(earliest - HISTORY_LOOKBACK_MS)),
    ]);
    const cards = [];
    for (const touch of touches) cards.push({ touch, card: scoreTouch(this.rubric.rubric, await this.inspection(touch, trails, contacts, now)) });
    const findings: NewFinding[] = [];
    const byCase = new Map<string, TouchInput[]>();
    for (const { touch, card } of cards) {
      findings.push(
        ...card.findings.map((finding) => ({
          caseId: touch.caseId,
          touchId: touch.id,
          ruleId: finding.ruleId,
          autofail: finding.autofail,
          detail: finding.detail,
        })),
      );
      byCase.set(touch.caseId, [...(byCase.get(touch.caseId) ?? []), scoredTouch(touch, card)]);
    }
    // The case rows first (recordMany locks them in id order), as every writer takes its locks.
    await this.audit.recordMany(
      tx,
      [...byCase].map(([caseId, scoredTouches]) => ({ caseId, touches: scoredTouches })),
    );
    const fresh = await this.quality.markScored(
      tx,
      cards.map(({ touch, card }) => ({ touchId: touch.id, caseId: touch.caseId, score: card.score, autofailed: card.autofailed })),
      now,
    );
    // The sweep's lock makes this one scorer; should a touch be scored already, nothing of the batch is kept.
    if (fresh.size !== cards.length)
      throw new Error(`quality scoring: ${cards.length - fresh.size} of the batch's touches were scored meanwhile; the batch is rolled back`);
    await this.quality.insertFindings(tx, findings, now);
    return fresh.size;
  }

  private async inspection(
    touch: Candidate,
    trails: Map<string, Inspection['trail']>,
    contacts: Map<string, Inspection['contacts']>,
    now: Date,
  ): Promise<Inspection> {
    const debtor = { timezone: touch.timezone, country: touch.country };
    const base = {
      touch: { id: touch.id, kind: touch.kind, at: touch.at, channel: touch.channel, data: touch.data },
      debtor,
      gate: this.gate.rulesFor(touch.country),
      calendar: this.holidays,
      trail: trails.get(touch.caseId) ?? [],
      contacts: contacts.get(touch.debtorId) ?? [],
      now,
    };
    if (touch.kind === 'notice.sent') return { ...base, ...this.contents.ofNotice(touch) };
    if (touch.kind === 'letter.sent') return { ...base, ...(await this.contents.ofLetter(touch)) };
    if (touch.kind === 'contact.recorded') {
      const contact = touch.data as unknown as ContactRecord;
      return { ...base, content: [contact.notes, contact.transcript ?? ''].join('\n'), facts: {} };
    }
    return { ...base, content: null, facts: {} };
  }
}

/** The `qa.scored` touch of a scored touch, on its case (the contract the reports read). */
function scoredTouch(touch: Candidate, card: Scorecard): TouchInput {
  return {
    kind: 'qa.scored',
    actor: 'system',
    data: {
      touchId: touch.id,
      touchKind: touch.kind,
      collector: touch.actor,
      agency: (touch.data as Partial<ContactRecord>).agency ?? null,
      // A notice's template, a letter's type.
      template: typeof touch.data.template === 'string' ? touch.data.template : typeof touch.data.type === 'string' ? touch.data.type : null,
      policy: touch.policy,
      score: card.score,
      passed: card.passed,
      failed: card.failed,
      autofailed: card.autofailed,
    },
  };
}

/** When a touch's contact happened: a person's from the record, the service's when it was recorded. */
const contactTime = (touch: Candidate): Date => (touch.kind === 'contact.recorded' ? new Date(String(touch.data.startedAt)) : touch.at);
