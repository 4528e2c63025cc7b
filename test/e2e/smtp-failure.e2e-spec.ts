import { Job } from 'bullmq';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, overdueEvent, startTestApp, suiteRedis, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

describe('an SMTP server that refuses mail', () => {
  const smtp = new SmtpSink();
  let sut: TestApp;

  beforeAll(async () => {
    const smtpUrl = await smtp.start();
    sut = await startTestApp('smtp_failure', 2, { SMTP_URL: smtpUrl, STEP_ATTEMPTS: '3', STEP_BACKOFF: 'PT0.2S' });
  });

  afterAll(async () => {
    await sut?.close();
    await smtp.stop();
  });

  it('gives retries, then a failed job and a notice.failed touch; a retry after recovery delivers the notice once', async () => {
    smtp.refusing = true;
    const event = overdueEvent({ segment: 'at-once' });
    const response = await sut.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
    const caseId: string = response.body.results[0].caseId;
    const detail = async () => (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('operator')).expect(200)).body;
    const stepId: string = (await detail()).schedule[0].id;

    const failed = await waitFor('the step job to fail for good', async () => {
      const job = await Job.fromId(sut.queue, stepId);
      return job && (await job.getState()) === 'failed' ? job : null;
    });
    expect(failed.attemptsMade).toBe(3);
    expect(smtp.refusals).toBe(3);
    expect(failed.failedReason).toContain('451');

    const afterFailure = await detail();
    expect(afterFailure.schedule[0]).toMatchObject({ status: 'failed', attempts: 3, lastError: expect.stringContaining('451') });
    const touches = async () =>
      (await sut.http.get(`/v1/cases/${caseId}/touches`).set(bearer('auditor')).expect(200)).body.items as { kind: string; data: Record<string, unknown> }[];
    const failure = (await touches()).find((touch) => touch.kind === 'notice.failed');
    expect(failure?.data).toMatchObject({ stepId, attempts: 3, error: expect.stringContaining('451') });

    smtp.refusing = false;
    await failed.retry();
    const mail = await waitFor('the notice after the retry', () => smtp.to(event.data.debtor.email)[0]);
    await waitFor('step done', async () => (await detail()).schedule[0].status === 'done');
    expect(smtp.to(event.data.debtor.email)).toHaveLength(1);

    // Every attempt used the one dispatch row, so the Message-ID is the same one the failures carried.
    const dispatches = await sut.db.query('SELECT id, status, attempts, message_id FROM dispatches WHERE step_id = $1', [stepId]);
    expect(dispatches).toEqual([expect.objectContaining({ status: 'sent', attempts: 4, message_id: mail.messageId })]);
    expect((await touches()).filter((touch) => touch.kind === 'notice.sent')).toHaveLength(1);
  });
});

describe('a retry lost with Redis', () => {
  const smtp = new SmtpSink();
  let sut: TestApp;

  beforeAll(async () => {
    const smtpUrl = await smtp.start();
    // The retry would wait an hour; the reconciler looks every second.
    sut = await startTestApp('retry_lost', 2, { SMTP_URL: smtpUrl, STEP_ATTEMPTS: '3', STEP_BACKOFF: 'PT1H', RECONCILE_EVERY: 'PT1S' });
  });

  afterAll(async () => {
    await sut?.close();
    await smtp.stop();
  });

  it('after an SMTP 4xx and a Redis flush, the reconciler rebuilds the waiting retry and the notice goes out once', async () => {
    smtp.refusing = true;
    const event = overdueEvent({ segment: 'at-once' });
    const response = await sut.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
    const caseId: string = response.body.results[0].caseId;
    const step = async () => (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('operator')).expect(200)).body.schedule[0];

    // The first attempt is refused: the row waits, as its retry in Redis does.
    expect(await waitFor('the refused attempt', async () => ((await step()).lastError ? step() : null))).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: expect.stringContaining('451'),
    });
    smtp.refusing = false;
    const redis = suiteRedis(sut.config);
    try {
      await redis.flushdb();
    } finally {
      redis.disconnect();
    }

    await waitFor('the notice after the flush', () => smtp.to(event.data.debtor.email)[0]);
    await waitFor('step done', async () => (await step()).status === 'done');
    expect(smtp.to(event.data.debtor.email)).toHaveLength(1);
  });
});
