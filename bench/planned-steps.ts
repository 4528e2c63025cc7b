import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { INestApplication } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { DispatchRepository } from '../src/channels/dispatch.repository';
import { Transactions, type Tx } from '../src/database/transactions';
import type { DueStep } from '../src/domain/step';
import { QueueName } from '../src/jobs/job-names';
import { Reconciler } from '../src/scheduling/reconciler.service';
import { StepRepository } from '../src/scheduling/step.repository';
import { StepScheduler } from '../src/scheduling/step-scheduler.service';
import { copyIn } from './copy-in';
import { postEvents } from './service';
import { round } from './util';

/** As the bench-horizon policy plans them: ten steps a case. */
const STEPS_PER_CASE = 10;
/** The reconciler's page (reconciler.service.ts). */
const PAGE = 1000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Rows beyond the horizon fall due over the next half year, as a portfolio's later steps do. */
const BEYOND_SPREAD_MS = 180 * DAY_MS;
const COPY_CHUNK_ROWS = 2000;
/** Steps claimed together: about what one gathered claim holds in the end-to-end phase. */
const CLAIM_GROUP = 9;

export interface SweepAtSize {
  rows: number;
  /** Medians over the runs: the reconciler's whole pass (SQL and Redis), and its SQL alone. */
  sweepMs: number;
  sweepSqlMs: number;
  copyRowsPerSecond: number;
}

export interface PlannedSteps {
  inside: number;
  sizes: SweepAtSize[];
  /** used_memory added by the jobs the first pass enqueued, per job (delayed jobs, as the reconciler adds them). */
  redisBytesPerJob: number;
  /** At the largest size: how each statement reads scheduled_steps, and what it cost. */
  sweepPlan: string;
  lockPlan: string;
  claimPlan: string;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function usedMemory(redis: Redis): Promise<number> {
  const match = /^used_memory:(\d+)/m.exec(await redis.info('memory'));
  if (!match) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

/**
 * Debtors, invoices and cases for `count` more cases, copied by SQL from the template case (one
 * debtor and invoice each, all active), under the ids given; every other column as the template's.
 */
async function cloneCases(client: Client, templateCaseId: string, caseIds: readonly string[]): Promise<void> {
  await client.query('CREATE TEMP TABLE clone (n int, case_id uuid, debtor_id uuid DEFAULT gen_random_uuid(), invoice_id uuid DEFAULT gen_random_uuid())');
  try {
    const lines = async function* () {
      for (let i = 0; i < caseIds.length; i += COPY_CHUNK_ROWS)
        yield caseIds
          .slice(i, i + COPY_CHUNK_ROWS)
          .map((id, k) => `${i + k}\t${id}\n`)
          .join('');
    };
    await copyIn(client, 'COPY clone (n, case_id) FROM STDIN', lines());
    // Through jsonb, so that columns added by later migrations come along without naming them here.
    const copy = (table: string, overrides: string, join: string) =>
      client.query(
        `INSERT INTO ${table} SELECT (jsonb_populate_record(NULL::${table}, to_jsonb(t) || jsonb_build_object(${overrides}))).*
         FROM ${table} t CROSS JOIN clone ${join}`,
        [templateCaseId],
      );
    const suffix = `'-' || clone.n || '-' || clone.case_id`;
    await copy(
      'debtors',
      `'id', clone.debtor_id, 'external_id', t.external_id || ${suffix}, 'unsubscribe_token', t.unsubscribe_token || ${suffix}`,
      'JOIN cases c ON c.debtor_id = t.id AND c.id = $1',
    );
    await copy(
      'invoices',
      `'id', clone.invoice_id, 'debtor_id', clone.debtor_id, 'external_id', t.external_id || ${suffix}`,
      'JOIN cases c ON c.invoice_id = t.id AND c.id = $1',
    );
    await copy('cases', `'id', clone.case_id, 'debtor_id', clone.debtor_id, 'invoice_id', clone.invoice_id`, 'WHERE t.id = $1');
  } finally {
    await client.query('DROP TABLE clone');
  }
}

/** COPY text lines of pending steps, STEPS_PER_CASE per case; the first step of the first `inside` cases falls due inside the horizon. */
async function* stepLines(caseIds: readonly string[], definition: string, inside: number, now: number): AsyncGenerator<string> {
  const updatedAt = new Date(now).toISOString();
  const action = (JSON.parse(definition) as { action: string }).action;
  if (inside > caseIds.length) throw new Error(`${inside} steps inside the horizon need as many cases, not ${caseIds.length}`);
  let chunk: string[] = [];
  for (const [n, caseId] of caseIds.entries()) {
    for (let index = 0; index < STEPS_PER_CASE; index++) {
      // Inside: a case's next step, one to five hours out, so no job falls due while the bench runs.
      const dueAt = index === 0 && n < inside ? now + HOUR_MS + (n / inside) * 4 * HOUR_MS : now + DAY_MS + Math.random() * BEYOND_SPREAD_MS;
      chunk.push(`${randomUUID()}\t${caseId}\t${index}\t${action}\t${definition}\t${new Date(dueAt).toISOString()}\tpending\t${updatedAt}\n`);
      if (chunk.length === COPY_CHUNK_ROWS) {
        yield chunk.join('');
        chunk = [];
      }
    }
  }
  if (chunk.length) yield chunk.join('');
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  Plans?: PlanNode[];
}

const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];

/** How a plan reads scheduled_steps (node, index, rows) and its buffers and time, in one line. */
function planSummary(plan: { Plan: PlanNode; 'Execution Time': number }): string {
  const reads = nodes(plan.Plan)
    .filter((node) => node['Relation Name'] === 'scheduled_steps')
    .map((node) => `${node['Node Type']}${node['Index Name'] ? ` using ${node['Index Name']}` : ''}, ${node['Actual Rows'] * node['Actual Loops']} rows`);
  const buffers = plan.Plan['Shared Hit Blocks'] + plan.Plan['Shared Read Blocks'];
  return `scheduled_steps: ${reads.join('; ') || 'not read'}; ${buffers} buffers; ${plan['Execution Time'].toFixed(2)} ms`;
}

/**
 * A stand-in transaction for the repositories: each statement they run in it is EXPLAINed
 * (ANALYZE, BUFFERS) on `client` inside a transaction rolled back, so a claim writes nothing, and
 * answers no rows. managerOf reads a Tx as an EntityManager, of which repositories call only query().
 */
function explaining(client: Client, plans: { text: string; summary: string }[]): Tx {
  const query = async (sql: string, params: unknown[]): Promise<unknown[]> => {
    await client.query('BEGIN');
    try {
      const text = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      const json = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }] }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`,
        params,
      );
      plans.push({ text: text.rows.map((row) => row['QUERY PLAN']).join('\n'), summary: planSummary(json.rows[0]!['QUERY PLAN'][0]) });
    } finally {
      await client.query('ROLLBACK');
    }
    return [];
  };
  return { query } as unknown as Tx;
}

/** The plans of the sweep's first page, of the step lock and of the notice claim, for CLAIM_GROUP steps inside the horizon. */
async function explainAll(app: INestApplication, client: Client): Promise<{ sweep: string; lock: string; claim: string; text: string }> {
  const plans: { text: string; summary: string }[] = [];
  const tx = explaining(client, plans);
  const steps = app.get(StepRepository);
  const horizon = app.get(StepScheduler).horizon();
  await steps.dueWithin(tx, horizon, { dueAt: new Date(0), id: '00000000-0000-0000-0000-000000000000' }, new Date(Date.now() - 10 * 60_000), PAGE);
  const { rows } = await client.query<{ id: string; case_id: string; debtor_id: string; email: string }>(
    `SELECT s.id, s.case_id, c.debtor_id, d.email FROM scheduled_steps s JOIN cases c ON c.id = s.case_id JOIN debtors d ON d.id = c.debtor_id
     WHERE s.status = 'pending' AND s.due_at <= $1 ORDER BY s.due_at LIMIT $2`,
    [horizon, CLAIM_GROUP],
  );
  await steps.lockForRun(tx, rows[0]!.id);
  // Called in one turn, as the workers' gathered claims are: one statement for the group.
  const now = new Date();
  const dispatches = app.get(DispatchRepository);
  await Promise.all(
    rows.map((row) =>
      dispatches.claimNotice(
        tx,
        {
          id: randomUUID(),
          caseId: row.case_id,
          stepId: row.id,
          channel: 'email',
          recipient: row.email,
          purpose: { kind: 'notice', channel: 'email', recipient: row.email },
          messageId: `<${randomUUID()}@bench>`,
          debtorId: row.debtor_id,
          at: now,
        },
        new Date(now.getTime() - 30 * DAY_MS),
      ),
    ),
  );
  const [sweep, lock, claim] = plans;
  if (!sweep || !lock || !claim) throw new Error(`expected three statements, EXPLAINed ${plans.length}`);
  const text = [
    ['The sweep (StepRepository.dueWithin, first page)', sweep],
    ['The step lock (StepRepository.lockForRun)', lock],
    [`The notice claim (DispatchRepository.claimNotice, ${rows.length} steps gathered)`, claim],
  ]
    .map(([title, plan]) => `### ${title as string}\n\n\`\`\`\n${(plan as { text: string }).text}\n\`\`\`\n`)
    .join('\n');
  return { sweep: sweep.summary, lock: lock.summary, claim: claim.summary, text };
}

/** The reconciler's page loop without its enqueues: what PostgreSQL spends on one pass. */
async function sweepSql(app: INestApplication): Promise<number> {
  const steps = app.get(StepRepository);
  const horizon = app.get(StepScheduler).horizon();
  const staleBefore = new Date(Date.now() - 10 * 60_000);
  return app.get(Transactions).run(async (tx) => {
    let after: DueStep = { dueAt: new Date(0), id: '00000000-0000-0000-0000-000000000000' };
    let read = 0;
    for (;;) {
      const due = await steps.dueWithin(tx, horizon, after, staleBefore, PAGE);
      read += due.length;
      if (due.length < PAGE) return read;
      after = due[due.length - 1]!;
    }
  });
}

/**
 * The reconciler's sweep over growing numbers of pending rows in `scheduled_steps`: one case
 * opened over HTTP with the bench-horizon policy is the template for the rest (copied by SQL),
 * steps are loaded by COPY, `inside` of them inside SCHEDULE_HORIZON and the rest beyond it; after
 * VACUUM ANALYZE, `runs` passes of the real Reconciler at each size. `app` must not run workers or
 * sweeps of its own (APP_ROLE=api), and its database must be new.
 */
export async function plannedSteps(
  { app, baseUrl, apiKey, databaseUrl, redisUrl }: { app: INestApplication; baseUrl: string; apiKey: string; databaseUrl: string; redisUrl: string },
  { run, sizes, inside, runs, plansFile }: { run: string; sizes: readonly number[]; inside: number; runs: number; plansFile: string },
): Promise<PlannedSteps> {
  if (sizes.some((size, i) => size % STEPS_PER_CASE || size <= (sizes[i - 1] ?? inside))) {
    throw new Error(`planned-step sizes must grow, be multiples of ${STEPS_PER_CASE} and exceed the ${inside} rows inside the horizon`);
  }
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const queue = new Queue(QueueName.Steps, { connection: { url: redisUrl, maxRetriesPerRequest: null } });
  try {
    await postEvents(baseUrl, apiKey, { run, count: 1, batch: 1, inFlight: 1, segment: 'bench-horizon' });
    const template = (
      await client.query<{ id: string; definition: string }>(
        `SELECT c.id, s.definition::text AS definition FROM cases c JOIN scheduled_steps s ON s.case_id = c.id WHERE c.segment = 'bench-horizon' LIMIT 1`,
      )
    ).rows[0];
    if (!template) throw new Error('the template case has no steps');
    if (/[\t\n\\]/.test(template.definition)) throw new Error('a step definition that needs COPY escapes');
    const reconciler = app.get(Reconciler);
    const results: SweepAtSize[] = [];
    let redisBytesPerJob = 0;
    let rows = STEPS_PER_CASE;
    for (const size of sizes) {
      const caseIds = Array.from({ length: (size - rows) / STEPS_PER_CASE }, () => randomUUID());
      const loadStart = performance.now();
      await cloneCases(client, template.id, caseIds);
      const copyStart = performance.now();
      const copied = await copyIn(
        client,
        'COPY scheduled_steps (id, case_id, step_index, action, definition, due_at, status, updated_at) FROM STDIN',
        stepLines(caseIds, template.definition, rows === STEPS_PER_CASE ? inside : 0, Date.now()),
      );
      const copyRowsPerSecond = copied / ((performance.now() - copyStart) / 1000);
      await client.query('VACUUM ANALYZE debtors, invoices, cases, scheduled_steps');
      rows += copied;
      console.log(
        `planned steps: ${rows} pending rows (${copied} by COPY at ${copyRowsPerSecond.toFixed(0)} rows/s; ${((performance.now() - loadStart) / 1000).toFixed(0)} s with the cases and VACUUM)`,
      );

      const sweepMs: number[] = [];
      const sqlMs: number[] = [];
      for (let i = 0; i < runs; i++) {
        // The first pass adds every job; the later ones find them there.
        const first = results.length === 0 && i === 0;
        const before = first ? await usedMemory(redis) : 0;
        const started = performance.now();
        const enqueued = await reconciler.reconcile();
        sweepMs.push(performance.now() - started);
        if (enqueued !== inside) throw new Error(`the reconciler enqueued ${enqueued} steps, ${inside} are inside the horizon`);
        if (first) {
          const delayed = (await queue.getJobCounts('delayed')).delayed ?? 0;
          if (delayed !== inside) throw new Error(`${delayed} delayed jobs after the first pass, ${inside} expected`);
          redisBytesPerJob = ((await usedMemory(redis)) - before) / inside;
        }
        const sqlStart = performance.now();
        const read = await sweepSql(app);
        sqlMs.push(performance.now() - sqlStart);
        if (read !== inside) throw new Error(`the sweep read ${read} steps, ${inside} expected`);
      }
      results.push({ rows, sweepMs: round(median(sweepMs), 1), sweepSqlMs: round(median(sqlMs), 1), copyRowsPerSecond: round(copyRowsPerSecond, 0) });
      console.log(
        `planned steps: sweep at ${rows} rows ${sweepMs.map((ms) => ms.toFixed(0)).join(', ')} ms; its SQL ${sqlMs.map((ms) => ms.toFixed(0)).join(', ')} ms`,
      );
    }
    const plans = await explainAll(app, client);
    await writeFile(plansFile, `# Plans at ${rows} pending rows, ${inside} inside the horizon\n\n${plans.text}`);
    console.log(`planned steps: sweep ${plans.sweep}\n  lock ${plans.lock}\n  claim ${plans.claim}`);
    return { inside, sizes: results, redisBytesPerJob: round(redisBytesPerJob, 0), sweepPlan: plans.sweep, lockPlan: plans.lock, claimPlan: plans.claim };
  } finally {
    await queue.close();
    redis.disconnect();
    await client.end();
  }
}
