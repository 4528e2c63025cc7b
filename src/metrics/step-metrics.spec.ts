import { MetricsService } from './metrics.service';
import { measureRun, StepMetrics } from './step-metrics';

const due = new Date('2030-01-01T09:00:00Z');
const at = (seconds: number) => new Date(due.getTime() + seconds * 1000);

describe('measureRun', () => {
  it('counts a sent notice with its lateness and channel', () => {
    expect(measureRun({ action: 'notice', channel: 'sms', dueAt: due, startedAt: at(2.5) }, { outcome: 'sent' })).toEqual({
      step: { action: 'notice', outcome: 'sent' },
      lateSeconds: 2.5,
      notices: [{ channel: 'sms', result: 'sent' }],
      inDoubt: null,
      letters: [],
    });
  });

  it('takes a job that fired within the early tolerance as on time', () => {
    expect(measureRun({ action: 'fee', dueAt: due, startedAt: at(-0.4) }, { outcome: 'assessed' }).lateSeconds).toBe(0);
  });

  it('counts a deferral without lateness: the run that finally acts on the step observes it', () => {
    expect(measureRun({ action: 'notice', channel: 'email', dueAt: due, startedAt: at(1) }, { deferred: true })).toEqual({
      step: { action: 'notice', outcome: 'deferred' },
      lateSeconds: null,
      notices: [],
      inDoubt: null,
      letters: [],
    });
  });

  it.each(['held', 'missing', 'already-done'])('observes no lateness for %s', (outcome) => {
    expect(measureRun({ action: 'notice', channel: 'email', dueAt: due, startedAt: at(1) }, { outcome }).lateSeconds).toBeNull();
  });

  it('counts a notice as failed only when no retry follows', () => {
    const facts = { action: 'notice', channel: 'email' as const, dueAt: due, startedAt: at(1) };
    expect(measureRun(facts, { failed: true, forGood: false })).toEqual({
      step: { action: 'notice', outcome: 'failed' },
      lateSeconds: null,
      notices: [],
      inDoubt: null,
      letters: [],
    });
    expect(measureRun(facts, { failed: true, forGood: true }).notices).toEqual([{ channel: 'email', result: 'failed' }]);
  });

  it('counts a send found in doubt by what the policy did: held is no failed notice, resent is a sent one', () => {
    const facts = { action: 'notice', channel: 'email' as const, dueAt: due, startedAt: at(1) };
    const held = measureRun({ ...facts, inDoubt: 'hold' }, { failed: true, forGood: true });
    expect(held).toMatchObject({ notices: [], inDoubt: { channel: 'email', resolution: 'held' } });
    const resent = measureRun({ ...facts, inDoubt: 'resend' }, { outcome: 'sent' });
    expect(resent).toMatchObject({ notices: [{ channel: 'email', result: 'sent' }], inDoubt: { channel: 'email', resolution: 'resent' } });
  });

  it('labels a run that never read its step as action "unknown"', () => {
    expect(measureRun({}, { failed: true, forGood: true })).toEqual({
      step: { action: 'unknown', outcome: 'failed' },
      lateSeconds: null,
      notices: [],
      inDoubt: null,
      letters: [],
    });
    expect(measureRun({}, { outcome: 'missing' }).step).toEqual({ action: 'unknown', outcome: 'missing' });
  });

  it('counts issued letters by delivery, and their pending emails as failed on the last attempt', () => {
    const letters = [
      { email: 'sent', post: 'queued' },
      { email: null, post: 'queued' },
      { email: 'skipped', post: null },
    ];
    expect(measureRun({ action: 'letter', letters, dueAt: due, startedAt: at(60) }, { outcome: 'issued' })).toMatchObject({
      lateSeconds: 60,
      letters: [
        { delivery: 'email', result: 'sent' },
        { delivery: 'post', result: 'queued' },
        { delivery: 'post', result: 'queued' },
      ],
    });
    const pending = [{ email: 'pending', post: 'queued' }];
    expect(measureRun({ action: 'letter', letters: pending }, { failed: true, forGood: false }).letters).toEqual([]);
    expect(measureRun({ action: 'letter', letters: pending }, { failed: true, forGood: true }).letters).toEqual([{ delivery: 'email', result: 'failed' }]);
  });
});

describe('StepMetrics', () => {
  const queue = (name: string) => ({ name, getJobCounts: async () => ({}), isPaused: async () => false });

  it('exposes the step, notice and lateness series in its registry', async () => {
    const metrics = new MetricsService({ all: () => [queue('steps'), queue('webhooks'), queue('batches')] } as never);
    const sut = new StepMetrics(metrics);
    sut.record({ action: 'notice', channel: 'email', dueAt: due, startedAt: at(3) }, { outcome: 'sent' });
    sut.record({ action: 'notice', channel: 'email' }, { deferred: true });
    const text = await metrics.scrape();
    expect(text).toContain('dunning_steps_run_total{action="notice",outcome="sent"} 1');
    expect(text).toContain('dunning_steps_run_total{action="notice",outcome="deferred"} 1');
    expect(text).toContain('dunning_notices_total{channel="email",result="sent"} 1');
    expect(text).toContain('dunning_notices_total{channel="sms",result="failed"} 0');
    expect(text).toContain('dunning_step_lateness_seconds_bucket{le="5"} 1');
    expect(text).toContain('dunning_step_lateness_seconds_bucket{le="1"} 0');
    expect(text).toContain('dunning_step_lateness_seconds_count 1');
  });
});
