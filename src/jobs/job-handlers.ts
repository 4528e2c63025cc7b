import { DiscoveryService } from '@nestjs/core';
import type { Job } from 'bullmq';
import type { JobData, JobName, SweepName } from './job-names';

/** What a job handler gets: the job, the worker's lock token, and whether a failure now is final. */
export interface JobContext<N extends JobName> {
  job: Job<JobData[N]>;
  token: string | undefined;
  /** No retry follows a failure of this attempt: record it before throwing. */
  finalAttempt: boolean;
}

/** Marks the method that handles a job name: `(context: JobContext<N>) => Promise<unknown>`. */
export const OnJob = DiscoveryService.createDecorator<JobName>();

/** Marks the method that runs a sweep: `() => Promise<number>` (how much it did, for the log). */
export const OnSweep = DiscoveryService.createDecorator<SweepName>();

export type Handler = (...args: never[]) => Promise<unknown>;

/**
 * Every name bound to exactly one handler, or an error naming each name without one and each
 * with several (pure, so the boot check is tested without a boot).
 */
export function bindHandlers<N extends string>(
  kind: string,
  names: readonly N[],
  found: readonly { name: N; owner: string; handler: Handler }[],
): Map<N, Handler> {
  const problems: string[] = [];
  const bound = new Map<N, Handler>();
  for (const name of names) {
    const handlers = found.filter((entry) => entry.name === name);
    const [only] = handlers;
    if (!only) problems.push(`no handler for ${kind} "${name}"`);
    else if (handlers.length > 1)
      problems.push(
        `${kind} "${name}" has ${handlers.length} handlers: ${handlers
          .map((entry) => entry.owner)
          .sort()
          .join(', ')}`,
      );
    else bound.set(name, only.handler);
  }
  for (const entry of found) {
    if (!names.includes(entry.name)) problems.push(`${entry.owner} handles unknown ${kind} "${entry.name}"`);
  }
  if (problems.length > 0) throw new Error(`Job handlers do not match the job names:\n  ${problems.join('\n  ')}`);
  return bound;
}
