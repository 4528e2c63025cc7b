import { randomInt } from 'node:crypto';
import fc from 'fast-check';
import { knownIssueHits, responseProblems } from './checks';
import { FuzzApp } from './fuzz-app';
import { harvest } from './harvest';
import type { Received } from './http-client';
import { type OpenApiDocument, type Operation, operationsOf } from './openapi-model';
import { ROLES } from '../../src/config/config.schema';
import { anyRequest, type FuzzRequest, resolveRequest, type SentRequest } from './requests';
import { seed } from './seed';

/**
 * Property-based fuzzing of the whole HTTP API from the OpenAPI document the app serves: every
 * operation gets requests generated from its schema, well-shaped and hostile, with every kind of
 * key. Each answer must be below 500, a 4xx must be the one error body (bounded, naming the
 * field where a field is at fault) and must have written nothing; afterwards the app is ready.
 *
 * FUZZ_SIZE=full runs 10,000 requests instead of 1,000; FUZZ_SEED=<n> or FUZZ_SEED=random picks
 * the seed (fixed otherwise), and the same seed sends the same requests again. FUZZ_PATH (printed
 * with a failure) goes straight to the shrunk counterexample; ids it drew from answers earlier in
 * the run then resolve against what the seeding alone handed out. FUZZ_RUNS=<n> sets the number
 * of requests, for a quick look; FUZZ_COLLECT=1 lists every kind of failure instead of stopping at
 * (and shrinking) the first; FUZZ_LOG=1 prints every request (FUZZ_LOG=full with whole bodies).
 */

const FULL = process.env.FUZZ_SIZE === 'full';
const RUNS = Number(process.env.FUZZ_RUNS) || (FULL ? 10_000 : 1_000);
const DEFAULT_SEED = 20_261_201;

function seedFromEnv(): number {
  const raw = process.env.FUZZ_SEED;
  if (raw === undefined || raw === '') return DEFAULT_SEED;
  if (raw === 'random') return randomInt(0, 2 ** 31 - 1);
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer or "random", got ${raw}`);
  return seed | 0;
}

const SEED = seedFromEnv();
const REPLAY_PATH = process.env.FUZZ_PATH || undefined;
/** FUZZ_COLLECT=1: no stop at the first failure; every kind of failure is listed at the end, with its first example (not shrunk). */
const COLLECT = process.env.FUZZ_COLLECT === '1';
/** FUZZ_LOG=1: one line per request sent (method, path, status), to see what came before a failure. */
const LOG = process.env.FUZZ_LOG === '1' || process.env.FUZZ_LOG === 'full';
const LOG_BODY = process.env.FUZZ_LOG === 'full' ? Infinity : 300;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}… (${text.length} characters in all)` : text);

/** The request and the answer, as a person replaying it needs them (key secrets replaced by their role). */
function describe_(app: FuzzApp, sent: SentRequest, res: Received | null, problems: string[]): string {
  const secrets = app.secrets();
  const redact = (text: string) => ROLES.reduce((out, role) => out.split(secrets[role]).join(`<${role} key>`), text);
  const lines = [
    ...problems.map((p) => `PROBLEM: ${p}`),
    `request: ${sent.method} ${clip(redact(sent.path), 2000)}`,
    `  headers: ${redact(JSON.stringify(sent.headers))}`,
    `  body (${sent.body?.length ?? 0} bytes): ${clip(JSON.stringify(sent.bodyText), 2000)}`,
  ];
  if (res) {
    lines.push(`response: ${res.status} ${res.headers['content-type'] ?? '(no content type)'}, ${res.bytes} bytes`, `  body: ${clip(res.text, 3000)}`);
  }
  return lines.join('\n');
}

/** What was sent and how it was answered: the statuses overall, the operations no request got through, the known issues met. */
function summary(sentCount: number, statuses: Map<string, Map<number, number>>, ops: Operation[]): string {
  const overall = new Map<number, number>();
  for (const bucket of statuses.values()) for (const [status, n] of bucket) overall.set(status, (overall.get(status) ?? 0) + n);
  const byStatus = [...overall].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`);
  const neverThrough = ops.filter((op) => ![...(statuses.get(op.key)?.keys() ?? [])].some((status) => status < 300)).map((op) => op.key);
  const known = [...knownIssueHits].map(([why, n]) => `\n  ${n}× ${why}`);
  return [
    `fuzz: ${sentCount} requests sent (shrinking included); answers ${byStatus.join(', ')}`,
    `operations no request got a 2xx from: ${neverThrough.join(', ') || 'none'}`,
    ...(known.length ? [`known issues excused:${known.join('')}`] : []),
    ...(LOG ? [...statuses].map(([key, bucket]) => `  ${key}: ${[...bucket].map(([status, n]) => `${status}×${n}`).join(' ')}`) : []),
  ].join('\n');
}

function changed(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.keys({ ...before, ...after })
    .filter((key) => before[key] !== after[key])
    .map((key) => `${key} ${before[key] ?? 0} → ${after[key] ?? 0}`);
}

describe('the API under generated requests (fast-check, from the served OpenAPI document)', () => {
  let app: FuzzApp;
  let ops: Operation[];

  beforeAll(async () => {
    app = await FuzzApp.start();
    const doc = await app.send({
      method: 'GET',
      path: '/docs-json',
      headers: { Authorization: `Bearer ${app.secrets().auditor}` },
      body: null,
      bodyText: '',
      names: new Set(),
    });
    expect(doc.status).toBe(200);
    ops = operationsOf(doc.json as OpenApiDocument);
    expect(ops.length).toBeGreaterThan(20);
    await seed(app);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  it(
    `keeps every rule for ${RUNS} generated requests (seed ${SEED})`,
    async () => {
      console.log(`fuzz: ${RUNS} requests, seed ${SEED} (replay: FUZZ_SEED=${SEED}${FULL ? ' FUZZ_SIZE=full' : ''})`);
      const statuses = new Map<string, Map<number, number>>();
      const collected = new Map<string, { count: number; example: string }>();
      let sentCount = 0;

      const property = fc.asyncProperty(anyRequest(ops), async (request: FuzzRequest) => {
        // Nothing in flight, so that any row a rejected request leaves is its own.
        const jobsBefore = await app.idle();
        const rowsBefore = await app.rowCounts();
        const sent = resolveRequest(request, app.ctx, app.secrets());
        sentCount++;
        let res: Received;
        try {
          res = await app.send(sent);
        } catch (error) {
          // Whether the connection or the request is at fault: the same bytes once more, on a new connection.
          const again = await app.sendOnNewConnection(sent).then(
            (r) => `${r.status} ${clip(r.text, 300)}`,
            (e: Error) => `no answer either: ${e.message}`,
          );
          throw new Error(describe_(app, sent, null, [`no answer: ${(error as Error).message} (the same request on a new connection: ${again})`]), {
            cause: error,
          });
        }
        if (LOG)
          process.stdout.write(
            `fuzz #${sentCount} ${sent.method} ${clip(sent.path, 300)} ${clip(sent.bodyText, LOG_BODY)} → ${res.status} ${clip(res.text, 200)}\n`,
          );
        const problems = responseProblems(request, sent, res);
        // A 202 in which every event was rejected or a duplicate changed nothing either, but for the
        // claim of each duplicate's own event id (a payment whose paymentId is known is a duplicate).
        const results = (res.json as { results?: { status?: unknown }[] } | undefined)?.results;
        const nothingTaken =
          request.op.key === 'POST /v1/events' &&
          res.status === 202 &&
          Array.isArray(results) &&
          results.every((r) => r?.status === 'rejected' || r?.status === 'duplicate');
        if ((res.status >= 400 && res.status < 500) || nothingTaken) {
          const after = await app.rowCounts();
          const claims = nothingTaken ? results.filter((r) => r?.status === 'duplicate').length : 0;
          if (claims > 0 && after.processed_events! - rowsBefore.processed_events! <= claims) after.processed_events = rowsBefore.processed_events!;
          const rows = changed(rowsBefore, after);
          if (rows.length > 0) problems.push(`a ${res.status} changed row counts: ${rows.join(', ')}`);
          const jobs = changed(jobsBefore, await app.jobCounts());
          if (jobs.length > 0) problems.push(`a ${res.status} changed the queues: ${jobs.join(', ')} (delayed now: ${await app.delayedJobs()})`);
        }
        const bucket = statuses.get(request.op.key) ?? new Map<number, number>();
        bucket.set(res.status, (bucket.get(res.status) ?? 0) + 1);
        statuses.set(request.op.key, bucket);
        harvest(app, request, sent, res);
        if (problems.length === 0) return;
        if (!COLLECT) throw new Error(describe_(app, sent, res, problems));
        for (const problem of problems) {
          const kind = `${request.op.key}: ${problem.replace(/\d+/g, 'N').slice(0, 120)}`;
          const seen = collected.get(kind);
          if (seen) seen.count++;
          else collected.set(kind, { count: 1, example: describe_(app, sent, res, problems) });
        }
      });

      const details = await fc.check(property, { seed: SEED, numRuns: RUNS, path: REPLAY_PATH });
      console.log(summary(sentCount, statuses, ops));
      const failures = [...collected].map(([kind, { count, example }]) => `### ${kind} (${count}×)\n${example}`);
      if (details.failed) {
        const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
        failures.unshift(
          `fuzz: a generated request broke a rule after ${details.numRuns} runs (seed ${details.seed}, shrunk ${details.numShrinks} times).\n` +
            `Replay: FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath}\n` +
            `Shrunk counterexample:\n${error}`,
        );
      }
      if (failures.length > 0) throw new Error(failures.join('\n\n'));
      if (!REPLAY_PATH) expect(details.numRuns).toBe(RUNS);
    },
    Math.max(15 * 60_000, RUNS * 1_000),
  );

  it('is alive and ready afterwards, with an intact audit trail', async () => {
    const call = (path: string, auth = true) =>
      app.send({ method: 'GET', path, headers: auth ? { Authorization: `Bearer ${app.secrets().auditor}` } : {}, body: null, bodyText: '', names: new Set() });
    expect((await call('/health/live', false)).status).toBe(200);
    const ready = await call('/health/ready', false);
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, redis: { status: 'up' } } });
    const verify = await call('/v1/audit/verify');
    expect(verify.status).toBe(200);
    expect(verify.json).toMatchObject({ ok: true });
  });
});
