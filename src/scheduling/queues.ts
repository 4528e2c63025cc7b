import type { JobsOptions } from 'bullmq';
import type { AppConfig } from '../config/config.schema';

export const STEPS_QUEUE = 'steps';
export const RUN_STEP_JOB = 'run-step';

/** A step job carries the step row's id only; the row is the truth. */
export interface RunStepJob {
  stepId: string;
}

/** Retry and retention for step jobs, in one place. Failed jobs stay for operators to see and retry. */
export function stepJobOptions(config: Pick<AppConfig, 'STEP_ATTEMPTS' | 'STEP_BACKOFF'>): JobsOptions {
  return {
    attempts: config.STEP_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.STEP_BACKOFF },
    removeOnComplete: true,
    removeOnFail: false,
  };
}
