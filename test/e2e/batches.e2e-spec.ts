import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { QueueName } from '../../src/jobs/job-names';
import { JobWorkers } from '../../src/jobs/job-workers.service';
import { freePort, MAIN, startService } from '../support/service-process';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, overdueEvent, startTestApp, type TestApp, testEnv } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/** `count` cases on the `batch-ladder` policy (notices at P1D and P2D), due today in Berlin. */
function ladderEvents(count: number, tag: string) {
  return Array.from({ length: count }, () =>
    overdueEvent({ segment: `batch-${tag}`, invoice: { dueDate: DateTime.now().setZone('Europe/Berlin').toISODate() } }),
  );
}

describe('finance batches', () => {
  const smtp = new SmtpSink();
  let sut: TestApp;
  const today = () => DateTime.now().setZone('Europe/Berlin');

  beforeAll(async () => {
    sut = await startTestApp('batches', 13, { SMTP_URL: await smtp.start(), BATCH_CHUNK: '50' });
  });

  afterAll(async () => {
    await sut?.close();
    await smtp.stop();
  });

  const post = (body: object) => sut.http.post('/v1/events').set(bearer('ingest')).send(body);
  const startBatch = (key: string | null, body: object) => {
    const request = sut.http.post('/v1/batches').set(bearer('finance'));
    return (key ? request.set('Idempotency-Key', key) : request).send(body);
  };
  const batch = async (id: string) => (await sut.http.get(`/v1/batches/${id}`).set(bearer('finance')).expect(200)).body;
  const items = async (id: string) => (await sut.http.get(`/v1/batches/${id}/items?limit=1000`).set(bearer('finance')).expect(200)).body.items;
  const completed = (id: string) => waitFor(`batch ${id} to complete`, async () => ((await batch(id)).status === 'completed' ? batch(id) : null), 60_000);

  async function openCases(count: number, tag: string): Promise<string[]> {
    const response = await post({ events: ladderEvents(count, tag) }).expect(202);
    return response.body.results.map((result: { caseId: string }) => result.caseId);
  }

  it('requires an Idempotency-Key; the same key and body answer the same batch, another body is a 409', async () => {
    const body = { kind: 'dunning-run', asOf: today().toISODate(), filter: { segment: 'batch-none' }, dryRun: true };
    const missing = await startBatch(null, body).expect(400);
    expect(missing.body.details).toEqual([expect.objectContaining({ field: 'header.Idempotency-Key' })]);
    const key = `k-${randomUUID()}`;
    const first = await startBatch(key, body).expect(202);
    expect(first.body).toMatchObject({ id: expect.any(String), total: 0, dryRun: true });
    const again = await startBatch(key, body).expect(202);
    expect(again.body.id).toBe(first.body.id);
    await startBatch(key, { ...body, dryRun: false }).expect(409);
    const bad = await startBatch(`k-${randomUUID()}`, { kind: 'letters', asOf: 'tomorrow', filter: { minAmount: '10' } }).expect(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['body.asOf', 'body.filter.minAmount', 'body.letterType']);
    await sut.http.post('/v1/batches').set(bearer('operator')).set('Idempotency-Key', 'x').send(body).expect(403);
  });

  it('a dry run lists what would happen and changes nothing', async () => {
    const caseIds = await openCases(30, 'dry');
    const before = await sut.db.query(`SELECT id, due_at, status FROM scheduled_steps WHERE case_id = ANY($1::uuid[]) ORDER BY id`, [caseIds]);
    const touchesBefore = (await sut.db.query(`SELECT count(*)::int AS n FROM touches WHERE case_id = ANY($1::uuid[])`, [caseIds]))[0].n;
    const started = await startBatch(`k-${randomUUID()}`, {
      kind: 'dunning-run',
      asOf: today().plus({ days: 3 }).toISODate(),
      filter: { segment: 'batch-dry' },
      dryRun: true,
    }).expect(202);
    expect(started.body.total).toBe(30);
    const done = await completed(started.body.id);
    expect(done).toMatchObject({ total: 30, done: 30, pending: 0, failed: 0 });
    expect((await items(started.body.id)).every((item: { outcome: string }) => item.outcome === 'would run 2 steps now')).toBe(true);
    expect(await sut.db.query(`SELECT id, due_at, status FROM scheduled_steps WHERE case_id = ANY($1::uuid[]) ORDER BY id`, [caseIds])).toEqual(before);
    expect((await sut.db.query(`SELECT count(*)::int AS n FROM touches WHERE case_id = ANY($1::uuid[])`, [caseIds]))[0].n).toBe(touchesBefore);
  });

  it('a real dunning run over a few hundred cases completes with per-item outcomes; each case is included once', async () => {
    const caseIds = await openCases(200, 'run');
    const outside = await openCases(5, 'other');
    const started = await startBatch(`k-${randomUUID()}`, {
      kind: 'dunning-run',
      asOf: today().plus({ days: 2 }).toISODate(),
      filter: { segment: 'batch-run', minDaysPastDue: 0, currency: 'EUR', minAmount: '1000.00' },
    }).expect(202);
    expect(started.body.total).toBe(200);
    const done = await completed(started.body.id);
    expect(done).toMatchObject({ done: 200, failed: 0, skipped: 0 });
    // Due today means due at the local midnight after it; as of the day after tomorrow only the P1D notice is due.
    const list = await items(started.body.id);
    expect(new Set(list.map((item: { caseId: string }) => item.caseId))).toEqual(new Set(caseIds));
    expect(list.every((item: { status: string; outcome: string }) => item.status === 'done' && item.outcome === 'runs 1 step now')).toBe(true);
    const included = await sut.db.query(
      `SELECT case_id, count(*)::int AS n FROM touches WHERE kind = 'batch.included' AND case_id = ANY($1::uuid[]) GROUP BY case_id`,
      [[...caseIds, ...outside]],
    );
    expect(included).toHaveLength(200);
    expect(included.every((row: { n: number }) => row.n === 1)).toBe(true);
    await waitFor(
      'the advanced notices to go out',
      async () => {
        const [{ n }] = await sut.db.query(`SELECT count(*)::int AS n FROM touches WHERE kind = 'notice.sent' AND case_id = ANY($1::uuid[])`, [caseIds]);
        return n === 200;
      },
      60_000,
    );
    const verify = (await sut.http.get('/v1/audit/verify').set(bearer('auditor')).expect(200)).body;
    expect(verify.ok).toBe(true);
  });

  it('cancel stops a batch: items not yet taken are cancelled and nothing more runs', async () => {
    const worker = sut.app.get(JobWorkers).worker(QueueName.Batches)!;
    await worker.pause();
    try {
      await openCases(40, 'cancel');
      const started = await startBatch(`k-${randomUUID()}`, {
        kind: 'letters',
        letterType: 'payment-demand',
        asOf: today().toISODate(),
        filter: { segment: 'batch-cancel' },
      }).expect(202);
      const cancelled = await sut.http.post(`/v1/batches/${started.body.id}/cancel`).set(bearer('finance')).expect(200);
      expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelled: 40, pending: 0 });
      await worker.resume();
      // The drivers find the batch cancelled and take nothing.
      await waitFor('the drivers to finish', async () => (await sut.queue.getJobCounts('active', 'waiting')).active === 0);
      expect((await batch(started.body.id)).done).toBe(0);
      await sut.http.post(`/v1/batches/${started.body.id}/cancel`).set(bearer('finance')).expect(200);
    } finally {
      await worker.resume();
    }
    await sut.http.post(`/v1/batches/${randomUUID()}/cancel`).set(bearer('finance')).expect(404);
  });
});

describe('a batch whose worker is killed mid-way', () => {
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm test builds it first (nest build)`);
  });

  it('finishes on a restarted worker with no case processed twice', async () => {
    // The API in the test; the batch's work in separate worker processes that can be killed.
    const sut = await startTestApp('batchkill', 14, { APP_ROLE: 'api' });
    const workerEnv = {
      ...testEnv('batchkill', 14),
      APP_ROLE: 'worker',
      BATCH_CHUNK: '10',
      BATCH_STALL_AFTER: 'PT1S',
      RECONCILE_EVERY: 'PT1S',
      OUTBOX_DIR: mkdtempSync(join(tmpdir(), 'batchkill-outbox-')),
    };
    // Ports the OS hands out: this suite runs on both backends, beside the process suite.
    let worker = startService({ ...workerEnv, PORT: String(await freePort()) });
    try {
      const events = Array.from({ length: 120 }, () =>
        overdueEvent({ segment: 'batch-kill', invoice: { dueDate: DateTime.now().setZone('Europe/Berlin').toISODate() } }),
      );
      const posted = await sut.http.post('/v1/events').set(bearer('ingest')).send({ events }).expect(202);
      const caseIds: string[] = posted.body.results.map((result: { caseId: string }) => result.caseId);
      const started = await sut.http
        .post('/v1/batches')
        .set(bearer('finance'))
        .set('Idempotency-Key', `k-${randomUUID()}`)
        .send({ kind: 'letters', letterType: 'payment-demand', asOf: DateTime.now().toISODate(), filter: { segment: 'batch-kill' } })
        .expect(202);
      const progress = async () => (await sut.http.get(`/v1/batches/${started.body.id}`).set(bearer('finance')).expect(200)).body;
      await waitFor(
        'the first worker to be part-way',
        async () => {
          const { done } = await progress();
          return done >= 10 && done < 120;
        },
        60_000,
        20,
      );
      worker.child.kill('SIGKILL');
      await worker.exited;
      const doneAtKill = (await progress()).done;
      expect(doneAtKill).toBeLessThan(120);

      worker = startService({ ...workerEnv, PORT: String(await freePort()) });
      await waitFor('the batch to complete on the new worker', async () => (await progress()).status === 'completed', 90_000, 200);
      expect(await progress()).toMatchObject({ total: 120, done: 120, failed: 0, pending: 0 });
      const perCase = await sut.db.query(
        `SELECT c.id, (SELECT count(*)::int FROM touches t WHERE t.case_id = c.id AND t.kind = 'batch.included') AS included,
           (SELECT count(*)::int FROM letters l WHERE l.case_id = c.id) AS letters
         FROM cases c WHERE c.id = ANY($1::uuid[])`,
        [caseIds],
      );
      expect(perCase.every((row: { included: number; letters: number }) => row.included === 1 && row.letters === 1)).toBe(true);
    } finally {
      worker.child.kill('SIGKILL');
      await worker.exited;
      await sut.close();
    }
    // Two process boots and 120 signed letters: longer than Jest's default, within the waits' deadlines.
  }, 240_000);
});
