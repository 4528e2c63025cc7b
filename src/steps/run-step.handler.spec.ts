import { DelayedError, type Job } from 'bullmq';
import type { Clock } from '../common/clock';
import { loadConfig } from '../config/config.schema';
import type { JobData, JobName } from '../jobs/job-names';
import type { JobQueue } from '../jobs/job-queue.service';
import type { StepMetrics } from '../metrics/step-metrics';
import { StepScheduler } from '../scheduling/step-scheduler.service';
import { RunStepHandler, WAITS_BEYOND_HORIZON } from './run-step.handler';
import type { StepRunner } from './step-runner.service';

const HOUR = 3_600_000;
const now = new Date('2026-03-10T20:30:00Z');

/** A handler whose runner postpones the step to `notBefore`, with the default horizon (PT6H). */
function postponingTo(notBefore: Date) {
  const clock: Clock = { now: () => now };
  const scheduler = new StepScheduler({} as JobQueue, loadConfig({}), clock);
  const runs: unknown[] = [];
  const metrics = { record: (_facts: unknown, end: unknown) => runs.push(end) } as unknown as StepMetrics;
  const runner = { run: async () => ({ notBefore }) } as unknown as StepRunner;
  const moves: number[] = [];
  const job = { data: { stepId: 'step-1' }, moveToDelayed: async (at: number) => void moves.push(at) } as unknown as Job<JobData[JobName.RunStep]>;
  const handle = () => new RunStepHandler(runner, metrics, scheduler).handle({ job, token: 'token', finalAttempt: false });
  return { handle, runs, moves };
}

describe('RunStepHandler, a step postponed (the gate, a requirement, or its row moved later)', () => {
  it('within the horizon goes back to the delayed set, to run at its new time', async () => {
    const until = new Date(now.getTime() + 2 * HOUR);
    const { handle, runs, moves } = postponingTo(until);
    await expect(handle()).rejects.toBeInstanceOf(DelayedError);
    expect(moves).toEqual([until.getTime()]);
    expect(runs).toEqual([{ deferred: true }]);
  });

  it('beyond the horizon ends its job: the row waits in PostgreSQL for the reconciler, Redis keeps nothing', async () => {
    // Quiet hours: 20:30 to 08:00 the next morning is more than the six-hour horizon away.
    const { handle, runs, moves } = postponingTo(new Date('2026-03-11T08:00:00Z'));
    await expect(handle()).resolves.toBe(WAITS_BEYOND_HORIZON);
    expect(moves).toEqual([]);
    expect(runs).toEqual([{ deferred: true }]);
  });
});
