import { randomBytes } from 'node:crypto';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, failedJob, overdueEvent, SHARED_REDIS_DB, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

interface Touch {
  kind: string;
  data: Record<string, unknown>;
}

/**
 * PostgreSQL answers as it does while it restarts (57P01, "terminating connection"), `times`
 * times, to the rows inserted into `table` that match `when`. A sequence counts the refusals: it is not
 * rolled back with the refused statement.
 */
async function refuseAsRestarting(sut: TestApp, name: string, table: string, when: string, times: number): Promise<() => Promise<number>> {
  await sut.db.query(`CREATE SEQUENCE ${name}_count`);
  await sut.db.query(`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF nextval('${name}_count') <= ${times} THEN
        RAISE EXCEPTION 'terminating connection due to administrator command' USING ERRCODE = '57P01';
      END IF;
      RETURN NEW;
    END $$`);
  await sut.db.query(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION ${name}()`);
  return async () => Number((await sut.db.query(`SELECT last_value FROM ${name}_count`))[0].last_value);
}

async function openCase(sut: TestApp, segment: string) {
  const event = overdueEvent({ segment });
  const response = await sut.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
  const caseId: string = response.body.results[0].caseId;
  const detail = async () => (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('operator')).expect(200)).body;
  const touches = async () => (await sut.http.get(`/v1/cases/${caseId}/touches`).set(bearer('auditor')).expect(200)).body.items as Touch[];
  return { email: event.data.debtor.email, stepId: (await detail()).schedule[0].id as string, detail, touches };
}

describe('a send whose outcome PostgreSQL cannot take at once', () => {
  const smtp = new SmtpSink();
  let sut: TestApp;

  beforeAll(async () => {
    const smtpUrl = await smtp.start();
    sut = await startTestApp('outcome_kept', SHARED_REDIS_DB, { SMTP_URL: smtpUrl, QUEUE_PREFIX: `test-outcome-kept-${randomBytes(4).toString('hex')}` });
  });

  afterAll(async () => {
    await sut?.close();
    await smtp.stop();
  });

  it('is kept and recorded when the database answers again: the job neither fails nor sends twice', async () => {
    const refusals = await refuseAsRestarting(sut, 'refuse_sent', 'touches', `NEW.kind = 'notice.sent'`, 3);
    const kase = await openCase(sut, 'at-once');

    await waitFor('the step done', async () => (await kase.detail()).schedule[0].status === 'done');
    expect(await refusals()).toBeGreaterThan(3);
    expect(smtp.to(kase.email)).toHaveLength(1);
    const touches = await kase.touches();
    expect(touches.filter((touch) => touch.kind === 'notice.sent')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ messageId: smtp.to(kase.email)[0]!.messageId }) }),
    ]);
    expect(touches.map((touch) => touch.kind)).not.toContain('notice.failed');
    // One run, no failure noted: the job never failed over the outage.
    expect((await kase.detail()).schedule[0]).toMatchObject({ attempts: 1, lastError: null });
  });
});

describe('a send a crash interrupted (in doubt)', () => {
  const smtp = new SmtpSink();
  let sut: TestApp;

  beforeAll(async () => {
    const smtpUrl = await smtp.start();
    // No patience: a send's record the database refuses is given up at once.
    sut = await startTestApp('outcome_in_doubt', SHARED_REDIS_DB, {
      SMTP_URL: smtpUrl,
      QUEUE_PREFIX: `test-in-doubt-${randomBytes(4).toString('hex')}`,
      OUTCOME_PATIENCE: 'PT0.001S',
    });
    // The first send's record is lost (as a crash after the send would lose it): the dispatch stays `sending`.
    await refuseAsRestarting(sut, 'lose_sent', 'touches', `NEW.kind = 'notice.sent'`, 1);
  });

  afterAll(async () => {
    await sut?.close();
    await smtp.stop();
  });

  const metric = async (resolution: string) => {
    const text = (await sut.http.get('/metrics').set(bearer('operator')).expect(200)).text;
    return Number(new RegExp(`^dunning_notices_in_doubt_total\\{channel="email",resolution="${resolution}"\\} (\\d+)`, 'm').exec(text)?.[1]);
  };

  it("is held for an operator by default: no second send, a failed job saying why; the operator's retry sends it with the same Message-ID", async () => {
    const kase = await openCase(sut, 'at-once');
    const failed = await failedJob(sut, kase.stepId);
    expect(failed.failedReason).toMatch(/^notice in doubt: the send of <.+> was interrupted and may have gone out/);
    const [first] = smtp.to(kase.email);
    expect(smtp.to(kase.email)).toHaveLength(1);
    expect(failed.failedReason).toContain(first!.messageId);
    expect((await kase.detail()).schedule[0]).toMatchObject({ status: 'failed', outcome: 'in doubt' });
    expect((await kase.touches()).filter((touch) => touch.kind.startsWith('notice.'))).toEqual([
      expect.objectContaining({
        kind: 'notice.in_doubt',
        data: expect.objectContaining({ stepId: kase.stepId, messageId: first!.messageId, resolution: 'held' }),
      }),
    ]);
    expect(await metric('held')).toBe(1);

    await failed.retry();
    await waitFor('the step done after the retry', async () => (await kase.detail()).schedule[0].status === 'done');
    expect(smtp.to(kase.email).map((mail) => mail.messageId)).toEqual([first!.messageId, first!.messageId]);
    const sent = (await kase.touches()).filter((touch) => touch.kind === 'notice.sent');
    expect(sent).toEqual([expect.objectContaining({ data: expect.objectContaining({ messageId: first!.messageId, inDoubtResend: true }) })]);
  });

  it('is sent again at once with the same Message-ID where the policy says so, and recorded as such', async () => {
    // The triggers refused once each, in the test above; arm them again.
    await sut.db.query(`ALTER SEQUENCE lose_sent_count RESTART`);
    const kase = await openCase(sut, 'resend-in-doubt');
    await waitFor('the step done', async () => (await kase.detail()).schedule[0].status === 'done');
    const mails = smtp.to(kase.email);
    expect(mails).toHaveLength(2);
    expect(mails[1]!.messageId).toBe(mails[0]!.messageId);
    const notices = (await kase.touches()).filter((touch) => touch.kind.startsWith('notice.'));
    expect(notices).toEqual([
      expect.objectContaining({ kind: 'notice.in_doubt', data: expect.objectContaining({ messageId: mails[0]!.messageId, resolution: 'resent' }) }),
      expect.objectContaining({ kind: 'notice.sent', data: expect.objectContaining({ messageId: mails[0]!.messageId, inDoubtResend: true }) }),
    ]);
    expect(await metric('resent')).toBe(1);
  });

  it("holds a letter's email the same way, and the operator's retry sends the same signed letter with the same Message-ID", async () => {
    await refuseAsRestarting(sut, 'lose_letter', 'touches', `NEW.kind = 'letter.sent'`, 1);
    const kase = await openCase(sut, 'letter-at-once');
    const failed = await failedJob(sut, kase.stepId);
    const [first] = smtp.to(kase.email);
    expect(smtp.to(kase.email)).toHaveLength(1);
    expect(failed.failedReason).toMatch(/^letter \S+ \(<.+>\) in doubt: the send of its email was interrupted/);
    expect((await kase.detail()).schedule[0]).toMatchObject({ status: 'failed', outcome: 'in doubt' });
    const doubt = (await kase.touches()).find((touch) => touch.kind === 'letter.in_doubt');
    expect(doubt?.data).toMatchObject({ stepId: kase.stepId, messageId: first!.messageId, resolution: 'held' });

    await failed.retry();
    await waitFor('the letter step done after the retry', async () => (await kase.detail()).schedule[0].status === 'done');
    const mails = smtp.to(kase.email);
    expect(mails.map((mail) => mail.messageId)).toEqual([first!.messageId, first!.messageId]);
    expect(mails[1]!.attachments[0]!.content.equals(first!.attachments[0]!.content)).toBe(true);
    const sent = (await kase.touches()).filter((touch) => touch.kind === 'letter.sent');
    expect(sent).toEqual([expect.objectContaining({ data: expect.objectContaining({ messageId: first!.messageId, inDoubtResend: true }) })]);
  });
});

describe('a send whose record fails on its last attempt', () => {
  const smtp = new SmtpSink();
  let sut: TestApp;

  beforeAll(async () => {
    const smtpUrl = await smtp.start();
    sut = await startTestApp('outcome_last_attempt', SHARED_REDIS_DB, {
      SMTP_URL: smtpUrl,
      QUEUE_PREFIX: `test-last-attempt-${randomBytes(4).toString('hex')}`,
      OUTCOME_PATIENCE: 'PT0.001S',
      STEP_ATTEMPTS: '1',
    });
    await refuseAsRestarting(sut, 'lose_sent', 'touches', `NEW.kind = 'notice.sent'`, 1);
  });

  afterAll(async () => {
    await sut?.close();
    await smtp.stop();
  });

  it('is held in doubt, not failed: the message went out, so nothing says it did not', async () => {
    const kase = await openCase(sut, 'at-once');
    await failedJob(sut, kase.stepId);
    const [sent] = smtp.to(kase.email);
    expect(smtp.to(kase.email)).toHaveLength(1);
    expect((await kase.detail()).schedule[0]).toMatchObject({ status: 'failed', outcome: 'in doubt' });
    const notices = (await kase.touches()).filter((touch) => touch.kind.startsWith('notice.'));
    expect(notices).toEqual([
      expect.objectContaining({
        kind: 'notice.in_doubt',
        data: expect.objectContaining({
          stepId: kase.stepId,
          messageId: sent!.messageId,
          resolution: 'held',
          error: expect.stringContaining('sent, but not recorded'),
        }),
      }),
    ]);
    const [dispatch] = await sut.db.query('SELECT status FROM dispatches WHERE step_id = $1', [kase.stepId]);
    expect(dispatch).toEqual({ status: 'in_doubt' });
  });
});
