import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

/** A port the OS just handed out on 127.0.0.1; free again once this resolves. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port assigned'))));
    });
  });
}

export class DeadlineExceeded extends Error {}

/**
 * Polls `done` until it holds or `timeoutMs` passes. The interval only bounds how late we notice;
 * the measured moments are taken by the event handlers themselves, not here.
 */
export async function waitFor(
  what: string,
  done: () => boolean,
  { timeoutMs, intervalMs = 50, progress }: { timeoutMs: number; intervalMs?: number; progress?: () => string },
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) {
      throw new DeadlineExceeded(`${what}: not reached within ${Math.round(timeoutMs / 1000)} s${progress ? ` (${progress()})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Runs `work` for 0..count-1 with at most `limit` in flight; the first failure stops new work and is rethrown. */
export async function forEachLimited(count: number, limit: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.min(limit, count) }, async () => {
    while (!failed && next < count) {
      const index = next++;
      try {
        await work(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  });
  await Promise.all(lanes);
}

/** The resident memory of a process and of its child processes, in bytes (Linux /proc); 0 for a process that is gone. */
export function treeRss(pid: number): number {
  const children = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry) && parentOf(Number(entry)) === pid);
  return residentBytes(pid) + children.reduce((sum, child) => sum + residentBytes(Number(child)), 0);
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function residentBytes(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
  } catch {
    return 0;
  }
}

const PAGE_BYTES = 4096;

/** Samples the RSS of this process plus `others()` (the service's processes) on an unref'd timer, so it never keeps the process alive. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    intervalMs = 200,
    private readonly others: () => number = () => 0,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().rss + this.others());
  }

  /** The highest RSS seen so far, in MB. */
  peakMb(): number {
    this.sample();
    return this.peak / 2 ** 20;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

export const round = (value: number, decimals: number): number => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};

/** CPU seconds spread over a count, in milliseconds each. */
export const perNotice = (cpuSeconds: number, count: number): number => round((cpuSeconds * 1000) / count, 2);

export const seconds = (fromMs: number, toMs: number): number => (toMs - fromMs) / 1000;

/** The nearest-rank percentile (0 < p ≤ 100) of values sorted ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no values');
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}
