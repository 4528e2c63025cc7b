import { performance } from 'node:perf_hooks';
import { createTransport } from 'nodemailer';
import type { AppConfig } from '../src/config/config.schema';
import { openQueue, openWorker } from '../src/jobs/queue-backend';
import type { SmtpSink } from './smtp-sink';
import { forEachLimited, seconds, waitFor } from './util';

const QUEUE_CHUNK = 1000;
const WAIT_MS = 10 * 60_000;

/** Bare BullMQ: no-op jobs through one Queue and one Worker, on the service's backend (Redis or PostgreSQL), the floor under the step queue. */
export async function rawQueueJobsPerSecond(config: AppConfig, queueName: string, count: number, concurrency: number): Promise<number> {
  const queue = openQueue(queueName, config);
  let completed = 0;
  let lastAt = 0;
  const worker = openWorker(queueName, () => Promise.resolve(undefined), config, { concurrency });
  worker.on('completed', () => {
    completed++;
    lastAt = performance.now();
  });
  let failure: Error | undefined;
  worker.on('failed', (_job, error) => (failure ??= error));
  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    const startedAt = performance.now();
    for (let from = 0; from < count; from += QUEUE_CHUNK) {
      const size = Math.min(QUEUE_CHUNK, count - from);
      await queue.addBulk(Array.from({ length: size }, (_, k) => ({ name: 'noop', data: { i: from + k }, opts: { removeOnComplete: true } })));
    }
    await waitFor('raw queue jobs completed', () => completed >= count || failure !== undefined, {
      timeoutMs: WAIT_MS,
      intervalMs: 20,
      progress: () => `${completed}/${count}`,
    });
    if (failure) throw new Error(`raw queue job failed: ${failure.message}`);
    return count / seconds(startedAt, lastAt);
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

/** A text+html message padded so that what the SMTP server receives is about `targetBytes`. */
async function paddedMessage(targetBytes: number) {
  const build = (padLines: number) => {
    const filler = Array.from({ length: padLines }, (_, i) => `Line ${i} of padding so the bare message matches a notice in size.`);
    return {
      from: 'Accounts Receivable <billing@example.com>',
      to: 'debtor@example.test',
      subject: 'Payment reminder: invoice BINV-raw is overdue',
      text: filler.join('\n'),
      html: filler.map((line) => `<p>${line}</p>`).join('\n'),
      headers: { 'X-Dunning-Case': '00000000-0000-0000-0000-000000000000', 'X-Dunning-Dispatch': '00000000-0000-0000-0000-000000000000' },
    };
  };
  // Measure with the same line endings the SMTP server sees, then solve for the padding.
  const measure = createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const sizeOf = async (padLines: number) => ((await measure.sendMail(build(padLines))).message as Buffer).length;
  // At least one line each: empty parts would change the MIME structure being measured.
  const base = await sizeOf(1);
  const perLine = ((await sizeOf(11)) - base) / 10;
  return build(Math.max(1, 1 + Math.round((targetBytes - base) / perLine)));
}

/** Bare nodemailer: pooled sends to the same sink, the floor under the notice's SMTP leg. */
export async function rawSmtpPerSecond(
  sink: SmtpSink,
  port: number,
  count: number,
  { targetBytes, inFlight, maxConnections }: { targetBytes: number; inFlight: number; maxConnections: number },
): Promise<{ perSecond: number; averageBytes: number }> {
  const message = await paddedMessage(targetBytes);
  const transport = createTransport({ url: `smtp://127.0.0.1:${port}`, pool: true, maxConnections } as Parameters<typeof createTransport>[0]);
  try {
    sink.reset();
    const startedAt = performance.now();
    await forEachLimited(count, inFlight, async () => {
      await transport.sendMail(message);
    });
    // sendMail resolves on the server's 250, which follows the sink's count; this is a cross-check.
    await waitFor('raw SMTP messages received', () => sink.received >= count, { timeoutMs: WAIT_MS, progress: () => `${sink.received}/${count}` });
    return { perSecond: count / seconds(startedAt, sink.lastAt), averageBytes: sink.averageBytes() };
  } finally {
    transport.close();
  }
}
