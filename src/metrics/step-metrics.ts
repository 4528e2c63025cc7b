import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import type { InDoubtRule } from '../domain/policy';
import { MetricsService } from './metrics.service';

/**
 * What a step run learned about its step, filled in by StepRunner as its claim reads the row, so
 * that the worker can count the run without a query of its own. Fields stay unset when the run
 * never got that far (a missing row, a database error).
 */
export interface StepRunFacts {
  action?: string;
  /** A notice's channel. */
  channel?: 'email' | 'sms';
  /** The step's due_at as the claim read it (after any earlier deferral). */
  dueAt?: Date;
  /** When the claim started, by the app's clock. */
  startedAt?: Date;
  /** A notice whose last send a crash interrupted, and what the policy did with it. */
  inDoubt?: InDoubtRule;
  /** A letter step's letters; their email status is updated as they go out. */
  letters?: readonly { email: string | null; post: string | null }[];
}

/** How a run ended: the runner's outcome, a deferral (a NotYetDue), or a throw (`forGood`: no retry follows). */
export type RunEnd = { outcome: string } | { deferred: true } | { failed: true; forGood: boolean };

export interface RunMeasures {
  step: { action: string; outcome: string };
  /** Claim start minus due_at in seconds, for the run that settles the step; null otherwise. */
  lateSeconds: number | null;
  notices: { channel: string; result: 'sent' | 'failed' }[];
  /** A send found interrupted: `held` for an operator, or `resent` with the same Message-ID. */
  inDoubt: { channel: string; resolution: 'held' | 'resent' } | null;
  letters: { delivery: 'email' | 'post'; result: 'sent' | 'queued' | 'failed' }[];
}

/** Outcomes that settle a step: each step gets one lateness observation, from the run that acts on it. */
const SETTLING = new Set(['sent', 'issued', 'assessed', 'escalated', 'terminated', 'written-off', 'skipped', 'cancelled']);

/** The metric updates one run implies (pure, so the mapping is unit-tested). */
export function measureRun(facts: StepRunFacts, end: RunEnd): RunMeasures {
  const action = facts.action ?? 'unknown';
  const outcome = 'outcome' in end ? end.outcome : 'deferred' in end ? 'deferred' : 'failed';
  const measures: RunMeasures = { step: { action, outcome }, lateSeconds: null, notices: [], inDoubt: null, letters: [] };
  if (SETTLING.has(outcome) && facts.dueAt && facts.startedAt) {
    // Jobs may fire up to a second early (the runner's tolerance): that is on time, not negative lateness.
    measures.lateSeconds = Math.max(0, (facts.startedAt.getTime() - facts.dueAt.getTime()) / 1000);
  }
  const failedForGood = 'failed' in end && end.forGood;
  if (action === 'notice' && facts.channel && facts.inDoubt) {
    measures.inDoubt = { channel: facts.channel, resolution: facts.inDoubt === 'hold' ? 'held' : 'resent' };
  }
  // A send held in doubt did not fail: it waits for an operator.
  if (action === 'notice' && facts.channel && (outcome === 'sent' || (failedForGood && facts.inDoubt !== 'hold'))) {
    measures.notices.push({ channel: facts.channel, result: outcome === 'sent' ? 'sent' : 'failed' });
  }
  if (action === 'letter' && facts.letters && (outcome === 'issued' || failedForGood)) {
    for (const letter of facts.letters) {
      if (outcome === 'issued') {
        if (letter.email === 'sent') measures.letters.push({ delivery: 'email', result: 'sent' });
        if (letter.post === 'queued') measures.letters.push({ delivery: 'post', result: 'queued' });
      } else if (letter.email === 'pending') {
        // The runner marks these emails failed on the step's last attempt.
        measures.letters.push({ delivery: 'email', result: 'failed' });
      }
    }
  }
  return measures;
}

export const LATENESS_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 21600, 86400];

/**
 * The step worker's counters. Increments only (no I/O), so they cost nothing on the hot path.
 * Counted per process: Prometheus sums the worker processes.
 */
@Injectable()
export class StepMetrics {
  private readonly steps: Counter<'action' | 'outcome'>;
  private readonly notices: Counter<'channel' | 'result'>;
  private readonly inDoubt: Counter<'channel' | 'resolution'>;
  private readonly letters: Counter<'delivery' | 'result'>;
  private readonly lateness: Histogram;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.steps = new Counter({
      name: 'dunning_steps_run_total',
      help: 'Step runs by the worker, by policy action and outcome (deferred: not yet due or held back by the contact gate; failed: the run threw).',
      labelNames: ['action', 'outcome'],
      registers,
    });
    this.notices = new Counter({
      name: 'dunning_notices_total',
      help: 'Notices sent (accepted by the mail server or SMS provider) and failed for good, by channel.',
      labelNames: ['channel', 'result'],
      registers,
    });
    this.inDoubt = new Counter({
      name: 'dunning_notices_in_doubt_total',
      help: 'Notices whose last send a crash interrupted (it may have gone out): held for an operator, or resent with the same Message-ID, by channel.',
      labelNames: ['channel', 'resolution'],
      registers,
    });
    this.letters = new Counter({
      name: 'dunning_letters_total',
      help: 'Letters by delivery: emailed (sent, or failed for good) and queued for post.',
      labelNames: ['delivery', 'result'],
      registers,
    });
    this.lateness = new Histogram({
      name: 'dunning_step_lateness_seconds',
      help: 'Step started minus scheduled (due_at), observed once per step by the run that settles it.',
      buckets: LATENESS_BUCKETS,
      registers,
    });
    // Zero series from the start, so rate() and alerts see the notice series before the first send.
    for (const channel of ['email', 'sms']) {
      for (const result of ['sent', 'failed']) this.notices.inc({ channel, result }, 0);
      for (const resolution of ['held', 'resent']) this.inDoubt.inc({ channel, resolution }, 0);
    }
  }

  stepRun(action: string, outcome: string, lateSeconds: number | null): void {
    this.steps.inc({ action, outcome });
    if (lateSeconds !== null) this.lateness.observe(lateSeconds);
  }

  noticeSent(channel: string): void {
    this.notices.inc({ channel, result: 'sent' });
  }

  noticeFailed(channel: string): void {
    this.notices.inc({ channel, result: 'failed' });
  }

  letter(delivery: 'email' | 'post', result: 'sent' | 'queued' | 'failed'): void {
    this.letters.inc({ delivery, result });
  }

  /** Counts one run of the step worker. */
  record(facts: StepRunFacts, end: RunEnd): void {
    const measures = measureRun(facts, end);
    this.stepRun(measures.step.action, measures.step.outcome, measures.lateSeconds);
    for (const notice of measures.notices) {
      if (notice.result === 'sent') this.noticeSent(notice.channel);
      else this.noticeFailed(notice.channel);
    }
    if (measures.inDoubt) this.inDoubt.inc(measures.inDoubt);
    for (const letter of measures.letters) this.letter(letter.delivery, letter.result);
  }
}
