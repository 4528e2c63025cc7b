import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { AcceptedMail } from './fault-smtp';
import type { FaultStack } from './fault-stack';
import { ServiceFleet } from './service-fleet';

/** How big a run is: small in CI, `FAULT_SIZE=full` for the real thing. */
export interface FaultSize {
  label: 'ci' | 'full';
  cases: number;
  workers: number;
}

/** Per scenario: boot, cases, the fault, the drain and the judgement (Jest's project-level testTimeout is not applied). */
export const SCENARIO_TIMEOUT_MS = process.env.FAULT_SIZE === 'full' ? 1_800_000 : 600_000;

export const SIZE: FaultSize = process.env.FAULT_SIZE === 'full' ? { label: 'full', cases: 3000, workers: 3 } : { label: 'ci', cases: 90, workers: 2 };

/** The ladder of test/faults/fixtures/policies/fault-notices.yaml: three email notices per case. */
export const NOTICES_PER_CASE = 3;
export const RECONCILE_EVERY_MS = 2_000;
export const SMTP_POOL_SIZE = 5;
/**
 * The drain time a deadline allows per notice still to go when the fault ends: a quarter of the
 * rate the fleet reaches here without faults (about 40 notices/s on this 2-core machine).
 */
const DRAIN_MS_PER_NOTICE = 100;
/** How long the service may take to settle (no step waiting or running, no job left) once every notice is in. */
const SETTLE_MS = 90_000;
/** Past the deadline the suite keeps watching this long, to tell "late" from "lost" in the report. */
const OVERTIME_MS = 60_000;

const SECRETS = { ingest: randomBytes(16).toString('hex'), auditor: randomBytes(16).toString('hex'), operator: randomBytes(16).toString('hex') };
const API_KEYS = Object.entries(SECRETS)
  .map(([role, secret]) => `fault-${role}:${role}:${secret}`)
  .join(',');

/** What a duplicate may look like in a scenario. */
export type DuplicatePolicy =
  /** Not one notice twice (database, Redis and SMTP faults, a graceful stop). */
  | 'none'
  /**
   * A crash between "SMTP accepted" and "marked sent": a resend must carry the first send's
   * Message-ID, and the case must hold a `notice.in_doubt` touch naming it.
   */
  | 'same-message-id-and-in-doubt-touch';

/** A scenario: its name (and database), what duplicates it tolerates, and its ladder. */
export interface ScenarioSpec {
  name: string;
  duplicates: DuplicatePolicy;
  /**
   * What the ladder's steps do with a send in doubt: `hold` (the default: the step fails for an
   * operator) or `resend` (fault-notices-resend.yaml: sent again at once, same Message-ID).
   */
  inDoubt?: 'hold' | 'resend';
}

/** The segment that picks each ladder (test/faults/fixtures/policies). */
const SEGMENT = { hold: undefined, resend: 'faults-resend-in-doubt' } as const;

/** What a fault sees of the scenario while it runs. */
export interface FaultContext {
  stack: FaultStack;
  fleet: ServiceFleet;
  size: FaultSize;
  expected: number;
  /** Distinct notices of this scenario accepted so far. */
  delivered(): number;
  /** Resolves once this fraction of the expected notices has been accepted (notices in flight). */
  untilDelivered(fraction: number): Promise<void>;
  /** A line for the scenario's report (what the fault did). */
  note(line: string): void;
  /** Something the fault itself found wrong (a process that would not stop): reported with the rest. */
  violation(line: string): void;
  /** Calls the API process with the key of a role; answers the status and the parsed body. */
  api(role: Role, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: unknown }>;
  /** Resolves once no step waits or runs and no job could still send (failed jobs aside). */
  untilSettled(): Promise<void>;
}

export type Role = keyof typeof SECRETS;

export interface ScenarioResult {
  name: string;
  expected: number;
  delivered: number;
  lost: number;
  /** Accepted messages beyond the first of each notice. */
  duplicates: number;
  /** Duplicates whose Message-ID differs from the first send's (a second dispatch). */
  duplicatesWithNewMessageId: number;
  /** Message-IDs accepted more than once, counted once per extra copy. */
  duplicateMessageIds: number;
  /** `notice.in_doubt` touches in the scenario's database. */
  inDoubtTouches: number;
  /** Duplicated notices whose case holds a `notice.in_doubt` touch with that Message-ID (API). */
  duplicatesWithInDoubtTouch: number;
  crashed: number;
  /** Seconds from the end of the fault to the last notice's first acceptance; null when some never came. */
  drainSeconds: number | null;
  deadlineSeconds: number;
  auditOk: boolean;
  notes: string[];
  violations: string[];
  summary: string;
}

interface Pair {
  caseId: string;
  index: number;
}

/**
 * One scenario: a fresh database and an empty Redis, the fleet (one API, `SIZE.workers` workers),
 * `SIZE.cases` cases over the batch events route (3 notices each), the fault while notices are
 * in flight, then a wait for every notice with a deadline of fault end + 10 × RECONCILE_EVERY +
 * drain time, and the judgement: lost, duplicates, in-doubt touches, crashes, the audit chain.
 * Everything is measured before anything is judged, so a failing scenario reports all it saw.
 */
export async function runScenario(stack: FaultStack, spec: ScenarioSpec, fault: (ctx: FaultContext) => Promise<void>): Promise<ScenarioResult> {
  const { name, duplicates } = spec;
  const database = `faults_${name.replace(/\W/g, '_')}`;
  const logDir = join(stack.dir, name);
  mkdirSync(logDir, { recursive: true });
  await stack.pg.query('postgres', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await stack.redis.flushAll();
  await stack.smtp.up();
  stack.smtp.accepted.length = 0;
  stack.smtp.refusals = 0;

  const env = {
    DATABASE_URL: `${stack.pg.url}/${database}`,
    REDIS_URL: stack.redis.url,
    SMTP_URL: stack.smtp.url,
    SMTP_POOL_SIZE: String(SMTP_POOL_SIZE),
    API_KEYS,
    POLICIES_DIR: 'test/faults/fixtures/policies',
    TEMPLATES_DIR: 'templates',
    COMPLIANCE_FILE: 'test/fixtures/compliance-open.yaml',
    RECONCILE_EVERY: `PT${RECONCILE_EVERY_MS / 1000}S`,
    // A killed worker's jobs come back within two of these: inside the deadline of a few RECONCILE_EVERY.
    STALLED_AFTER: 'PT5S',
    // Enough attempts to outlast every fault here: 0.5 s doubling gives a minute of retries.
    STEP_ATTEMPTS: '8',
    STEP_BACKOFF: 'PT0.5S',
    RATE_LIMIT: '100000000',
    LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? 'warn',
    PAYMENT_ACCOUNT: 'DE89370400440532013000',
    OUTBOX_DIR: join(logDir, 'outbox'),
  };
  const fleet = new ServiceFleet(stack.main, env, logDir);
  const notes: string[] = [];
  const violations: string[] = [];
  try {
    await fleet.start(SIZE.workers);
    const api = `http://127.0.0.1:${fleet.api.port}`;
    const caseIds = await openCases(api, name, SIZE.cases, SEGMENT[spec.inDoubt ?? 'hold']);
    const cases = new Set(caseIds);
    const expected = caseIds.length * NOTICES_PER_CASE;
    const ours = () => stack.smtp.accepted.filter((mail) => cases.has(mail.caseId));
    const delivered = () => new Set(ours().map((mail) => mail.dispatchId)).size;

    const ctx: FaultContext = {
      stack,
      fleet,
      size: SIZE,
      expected,
      delivered,
      untilDelivered: (fraction) =>
        until(`${Math.round(fraction * 100)} % of ${expected} notices (at ${delivered()})`, () => delivered() >= fraction * expected, 120_000 + expected * 50),
      note: (line) => notes.push(line),
      violation: (line) => violations.push(line),
      api: async (role, method, path) => {
        const response = await fetch(`${api}${path}`, { method, headers: { Authorization: `Bearer ${SECRETS[role]}` } });
        const text = await response.text();
        return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
      },
      untilSettled: async () => {
        const timeoutMs = SETTLE_MS + expected * DRAIN_MS_PER_NOTICE;
        const last = await poll(() => quiescent(stack, database), Date.now() + timeoutMs);
        if (last !== true) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for the service to settle: ${JSON.stringify(last)}`);
      },
    };
    try {
      await fault(ctx);
    } catch (error) {
      // Judge what happened anyway: the counts say more than the fault's own timeout.
      violations.push(`the fault did not complete: ${(error as Error).message}`);
    }
    const faultEnd = Date.now();
    const remaining = expected - delivered();
    const deadline = faultEnd + 10 * RECONCILE_EVERY_MS + remaining * DRAIN_MS_PER_NOTICE;

    // Every notice, by the deadline (and, for the report, how late past it).
    await poll(() => delivered() >= expected, deadline + OVERTIME_MS);
    const drainedInTime = delivered() >= expected && Date.now() <= deadline;
    // Then quiet: every step settled and no job left that could send once more.
    const settled = await poll(() => quiescent(stack, database), Date.now() + SETTLE_MS);

    const judged = judge(ours(), await dispatchSteps(stack, database), caseIds);
    const inDoubt = await stack.pg.query<{ case_id: string; data: { messageId?: string } }>(
      database,
      `SELECT case_id, data FROM touches WHERE kind = 'notice.in_doubt'`,
    );
    const withTouch = await duplicatesWithTouch(api, judged.duplicated);
    const audit = await verifyAudit(api);
    const crashed = fleet.crashed();
    const lastFirst = judged.firstAcceptedAt.length === expected ? Math.max(...judged.firstAcceptedAt) : null;
    const drainSeconds = lastFirst === null ? null : Math.max(0, (lastFirst - faultEnd) / 1000);

    if (judged.lost.length > 0) violations.push(`${judged.lost.length} notices lost, e.g. ${describeLost(judged.lost.slice(0, 5))}`);
    if (!drainedInTime && judged.lost.length === 0)
      violations.push(`delivered ${drainSeconds?.toFixed(1)} s after the fault ended, past the deadline of ${((deadline - faultEnd) / 1000).toFixed(1)} s`);
    if (crashed.length > 0)
      violations.push(...crashed.map((p) => `${p.name} exited unasked (code ${p.exit?.code}, signal ${p.exit?.signal}): ${lastLines(p.output(), 5)}`));
    if (!audit.ok) violations.push(`the audit chain does not verify: ${JSON.stringify(audit.report)}`);
    if (settled !== true)
      violations.push(`the service did not settle within ${SETTLE_MS / 1000} s of the last notice: ${JSON.stringify(await quiescent(stack, database))}`);
    if (judged.unknown > 0) violations.push(`${judged.unknown} accepted messages name a dispatch the database does not hold`);
    if (duplicates === 'none' && judged.duplicates > 0)
      violations.push(
        `${judged.duplicates} duplicate notices (${judged.duplicateMessageIds} repeated Message-IDs, ${judged.duplicatesWithNewMessageId} with a new Message-ID)`,
      );
    if (duplicates === 'same-message-id-and-in-doubt-touch') {
      if (judged.duplicatesWithNewMessageId > 0)
        violations.push(`${judged.duplicatesWithNewMessageId} duplicates carry a Message-ID other than the first send's`);
      const missing = judged.duplicated.length - withTouch;
      if (missing > 0) violations.push(`${missing} of ${judged.duplicated.length} duplicated notices have no notice.in_doubt touch naming their Message-ID`);
    }

    const steps = await stepStatuses(stack, database);
    const sends = await stack.pg.query<{ status: string; n: string }>(database, `SELECT status, count(*) AS n FROM dispatches GROUP BY status ORDER BY status`);
    notes.push(`steps: ${describeCounts(steps)}; dispatches: ${describeCounts(Object.fromEntries(sends.map((row) => [row.status, Number(row.n)])))}`);
    if (inDoubt.length > 0) {
      const [span] = await stack.pg.query<{ first: Date; last: Date }>(
        database,
        `SELECT min(at) AS first, max(at) AS last FROM touches WHERE kind = 'notice.in_doubt'`,
      );
      const after = (at: Date) => ((at.getTime() - faultEnd) / 1000).toFixed(1);
      notes.push(`notice.in_doubt touches recorded ${after(span!.first)} to ${after(span!.last)} s after the fault ended`);
    }
    if (violations.length > 0) notes.push(...(await failureEvidence(stack, database)));

    const summary =
      `[faults ${SIZE.label}] ${name}: expected ${expected}, delivered ${judged.delivered}, lost ${judged.lost.length}, ` +
      `duplicates ${judged.duplicates} (same Message-ID ${judged.duplicates - judged.duplicatesWithNewMessageId}), ` +
      `in-doubt ${inDoubt.length} (on duplicates ${withTouch}/${judged.duplicated.length}), crashed ${crashed.length}, ` +
      `drain ${drainSeconds === null ? 'never' : `${drainSeconds.toFixed(1)} s`} (deadline ${((deadline - faultEnd) / 1000).toFixed(1)} s), ` +
      `audit ${audit.ok ? 'ok' : 'BROKEN'}`;
    console.log([summary, ...notes.map((line) => `  ${line}`), ...(violations.length ? [evidence(fleet)] : [])].join('\n'));
    return {
      name,
      expected,
      delivered: judged.delivered,
      lost: judged.lost.length,
      duplicates: judged.duplicates,
      duplicatesWithNewMessageId: judged.duplicatesWithNewMessageId,
      duplicateMessageIds: judged.duplicateMessageIds,
      inDoubtTouches: inDoubt.length,
      duplicatesWithInDoubtTouch: withTouch,
      crashed: crashed.length,
      drainSeconds,
      deadlineSeconds: (deadline - faultEnd) / 1000,
      auditOk: audit.ok,
      notes,
      violations,
      summary,
    };
  } finally {
    stack.smtp.release();
    await fleet.stop();
  }
}

/** Opens `count` cases over the batch events route, each with its own debtor and email address. */
async function openCases(api: string, scenario: string, count: number, segment: string | undefined): Promise<string[]> {
  const run = randomBytes(4).toString('hex');
  const now = new Date().toISOString();
  const events = Array.from({ length: count }, (_, i) => ({
    id: `fault-${scenario}-${run}-${i}`,
    type: 'invoice.overdue',
    occurredAt: now,
    data: {
      invoice: { externalId: `INV-${run}-${i}`, currency: 'EUR', amountDue: '120.00', dueDate: now },
      debtor: { externalId: `DEB-${run}-${i}`, name: `Debtor ${i}`, email: `debtor-${run}-${i}@example.test`, locale: 'en', timezone: 'UTC' },
      ...(segment ? { segment } : {}),
    },
  }));
  const caseIds: string[] = [];
  for (let from = 0; from < events.length; from += 500) {
    const response = await fetch(`${api}/v1/events`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${SECRETS.ingest}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ events: events.slice(from, from + 500) }),
    });
    if (response.status !== 202) throw new Error(`POST /v1/events answered ${response.status}: ${await response.text()}`);
    const { results } = (await response.json()) as { results: { status: string; caseId?: string; error?: unknown }[] };
    for (const result of results) {
      if (result.status !== 'accepted' || !result.caseId) throw new Error(`an event was not accepted: ${JSON.stringify(result)}`);
      caseIds.push(result.caseId);
    }
  }
  return caseIds;
}

/** Each dispatch's case and step index, from the scenario's database. */
async function dispatchSteps(stack: FaultStack, database: string): Promise<Map<string, Pair>> {
  const rows = await stack.pg.query<{ id: string; case_id: string; step_index: number }>(
    database,
    `SELECT d.id, d.case_id, s.step_index FROM dispatches d JOIN scheduled_steps s ON s.id = d.step_id`,
  );
  return new Map(rows.map((row) => [row.id, { caseId: row.case_id, index: row.step_index }]));
}

interface Judged {
  delivered: number;
  lost: Pair[];
  duplicates: number;
  duplicatesWithNewMessageId: number;
  duplicateMessageIds: number;
  /** The duplicated notices: their case and the first send's Message-ID. */
  duplicated: { caseId: string; messageId: string }[];
  unknown: number;
  firstAcceptedAt: number[];
}

/** Groups the accepted messages by notice (case × step): what is missing, what came twice. */
function judge(mails: AcceptedMail[], steps: Map<string, Pair>, caseIds: string[]): Judged {
  const byNotice = new Map<string, AcceptedMail[]>();
  let unknown = 0;
  for (const mail of mails) {
    const pair = steps.get(mail.dispatchId);
    if (!pair || pair.caseId !== mail.caseId) {
      unknown++;
      continue;
    }
    const key = `${pair.caseId}/${pair.index}`;
    byNotice.set(key, [...(byNotice.get(key) ?? []), mail]);
  }
  const lost: Pair[] = [];
  for (const caseId of caseIds) for (let index = 0; index < NOTICES_PER_CASE; index++) if (!byNotice.has(`${caseId}/${index}`)) lost.push({ caseId, index });
  const counts = new Map<string, number>();
  for (const mail of mails) counts.set(mail.messageId, (counts.get(mail.messageId) ?? 0) + 1);
  let duplicates = 0;
  let withNewId = 0;
  const duplicated: Judged['duplicated'] = [];
  const firstAcceptedAt: number[] = [];
  for (const copies of byNotice.values()) {
    const first = copies[0]!;
    firstAcceptedAt.push(first.at);
    if (copies.length < 2) continue;
    duplicates += copies.length - 1;
    withNewId += copies.filter((copy) => copy.messageId !== first.messageId).length;
    duplicated.push({ caseId: first.caseId, messageId: first.messageId });
  }
  return {
    delivered: byNotice.size,
    lost,
    duplicates,
    duplicatesWithNewMessageId: withNewId,
    duplicateMessageIds: [...counts.values()].reduce((sum, n) => sum + n - 1, 0),
    duplicated,
    unknown,
    firstAcceptedAt,
  };
}

/** How many duplicated notices have a `notice.in_doubt` touch naming their Message-ID, read over the API. */
async function duplicatesWithTouch(api: string, duplicated: { caseId: string; messageId: string }[]): Promise<number> {
  let found = 0;
  for (const { caseId, messageId } of duplicated) {
    const touches = await touchesOf(api, caseId);
    if (touches.some((touch) => touch.kind === 'notice.in_doubt' && touch.data?.messageId === messageId)) found++;
  }
  return found;
}

async function touchesOf(api: string, caseId: string): Promise<{ kind: string; data?: Record<string, unknown> }[]> {
  const all: { kind: string; data?: Record<string, unknown> }[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const response = await fetch(`${api}/v1/cases/${caseId}/touches?limit=500${query}`, { headers: { Authorization: `Bearer ${SECRETS.auditor}` } });
    if (!response.ok) throw new Error(`GET touches of ${caseId} answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as { items: { kind: string; data?: Record<string, unknown> }[]; nextCursor: string | null };
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

async function verifyAudit(api: string): Promise<{ ok: boolean; report: unknown }> {
  const response = await fetch(`${api}/v1/audit/verify`, { headers: { Authorization: `Bearer ${SECRETS.auditor}` } });
  const report = (await response.json()) as { ok?: boolean };
  return { ok: response.ok && report.ok === true, report };
}

/** The scenario's steps by status. */
async function stepStatuses(stack: FaultStack, database: string): Promise<Record<string, number>> {
  const rows = await stack.pg.query<{ status: string; n: string }>(
    database,
    `SELECT status, count(*) AS n FROM scheduled_steps GROUP BY status ORDER BY status`,
  );
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
}

/**
 * True once no step of the scenario waits or runs (each is done, or failed for an operator) and
 * the steps queue holds no job that could still send; else what is still moving.
 */
async function quiescent(stack: FaultStack, database: string): Promise<true | Record<string, number>> {
  const statuses = await stepStatuses(stack, database);
  const moving = (statuses.pending ?? 0) + (statuses.deferred ?? 0) + (statuses.running ?? 0);
  const steps = Object.fromEntries(Object.entries(statuses).map(([status, n]) => [`steps ${status}`, n]));
  const queue = new Queue('steps', { connection: { url: stack.redis.url, maxRetriesPerRequest: 1, enableOfflineQueue: false }, prefix: 'bull' });
  queue.on('error', () => undefined);
  try {
    const jobs = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
    const busy = Object.values(jobs).reduce((sum, n) => sum + n, 0);
    if (moving === 0 && busy === 0) return true;
    return { ...steps, ...Object.fromEntries(Object.entries(jobs).map(([state, n]) => [`jobs ${state}`, n])) };
  } finally {
    await queue.close();
  }
}

/** Polls `probe` every 200 ms until it is true or the deadline passes; returns its last answer. */
async function poll<T>(probe: () => T | Promise<T>, deadline: number): Promise<T | false> {
  for (;;) {
    let answer: T | false;
    try {
      answer = await probe();
    } catch {
      answer = false;
    }
    if (answer === true || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function until(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  if ((await poll(probe, Date.now() + timeoutMs)) !== true) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function describeCounts(counts: Record<string, number>): string {
  return (
    Object.entries(counts)
      .map(([key, n]) => `${key} ${n}`)
      .join(', ') || 'none'
  );
}

/** For a failing scenario: why steps failed and what the in-doubt touches say, from the database. */
async function failureEvidence(stack: FaultStack, database: string): Promise<string[]> {
  const failed = await stack.pg.query<{ outcome: string; error: string; n: string }>(
    database,
    `SELECT coalesce(outcome, '') AS outcome, coalesce(regexp_replace(last_error, '[0-9a-f-]{36}', '<id>', 'g'), '') AS error, count(*) AS n
     FROM scheduled_steps WHERE status = 'failed' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5`,
  );
  const inDoubt = await stack.pg.query<{ resolution: string; n: string }>(
    database,
    `SELECT coalesce(data->>'resolution', '') AS resolution, count(*) AS n FROM touches WHERE kind = 'notice.in_doubt' GROUP BY 1`,
  );
  return [
    ...failed.map((row) => `failed steps: ${row.n} × outcome "${row.outcome}", last error "${row.error.slice(0, 300)}"`),
    ...inDoubt.map((row) => `notice.in_doubt touches: ${row.n} × resolution ${row.resolution}`),
  ];
}

function describeLost(pairs: Pair[]): string {
  return pairs.map((pair) => `case ${pair.caseId} step ${pair.index}`).join(', ');
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

/** For a failing scenario: each process's warnings and errors after its boot, counted by message (ids and numbers masked). */
function evidence(fleet: ServiceFleet): string {
  const lines: string[] = ['  evidence (service log lines at warn and above, by message):'];
  for (const service of fleet.processes) {
    const counts = new Map<string, number>();
    for (const line of service.output().split('\n')) {
      if (!line.trim()) continue;
      let message = line;
      try {
        const entry = JSON.parse(line) as { level?: number; time?: number; msg?: string; err?: { message?: string } };
        if ((entry.level ?? 50) < 40 || (entry.time ?? Infinity) < (service.readyAt ?? 0)) continue;
        message = `${entry.msg ?? ''}${entry.err?.message ? ` (${entry.err.message})` : ''}`;
      } catch {
        // not JSON: a console line, kept as it is
      }
      const masked = message
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
        .replace(/\d+/g, 'N')
        .slice(0, 240);
      counts.set(masked, (counts.get(masked) ?? 0) + 1);
    }
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
    lines.push(`    ${service.name} (pid ${service.pid}, ${service.exit ? `exited ${service.exit.code ?? service.exit.signal}` : 'alive'}):`);
    lines.push(...top.map(([message, n]) => `      ${n} × ${message}`));
  }
  return lines.join('\n');
}
