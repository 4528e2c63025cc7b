import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import request from 'supertest';
import { JobName, QueueName } from '../../src/jobs/job-names';
import { JobQueue } from '../../src/jobs/job-queue.service';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, KEYS, overdueEvent, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

type Role = keyof typeof KEYS;
interface Touch {
  kind: string;
  actor: string;
  data: Record<string, unknown>;
}

/** HTTP Basic as the dashboard wants it: the key's name (`<role>-key` in tests) and its secret. */
const basic = (role: Role, secret: string = KEYS[role]) => ({ Authorization: `Basic ${Buffer.from(`${role}-key:${secret}`).toString('base64')}` });

describe('queue dashboard and operator jobs API', () => {
  const smtp = new SmtpSink();
  let sut: TestApp;
  let baseUrl: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    const smtpUrl = await smtp.start();
    // One attempt: a refused notice fails for good at once.
    sut = await startTestApp('dashboard', 10, { SMTP_URL: smtpUrl, STEP_ATTEMPTS: '1' });
    // Real HTTP for the browser.
    await sut.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(sut.app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await browser?.close();
    await sut?.close();
    await smtp.stop();
  });

  /** Opens a case whose first notice is refused by the SMTP server until its job has failed for good. */
  async function failedNotice() {
    smtp.refusing = true;
    const event = overdueEvent({ segment: 'at-once' });
    const response = await sut.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
    const caseId: string = response.body.results[0].caseId;
    const stepId: string = (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('operator')).expect(200)).body.schedule[0].id;
    await waitFor('the notice job to fail', async () => (await (await sut.queue.getJob(stepId))?.getState()) === 'failed');
    return { caseId, stepId, email: event.data.debtor.email };
  }

  const touches = async (caseId: string): Promise<Touch[]> => (await sut.http.get(`/v1/cases/${caseId}/touches`).set(bearer('auditor')).expect(200)).body.items;
  const stepStatus = async (caseId: string): Promise<string> =>
    (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('operator')).expect(200)).body.schedule[0].status;

  describe('authentication', () => {
    it.each([
      ['GET', '/admin/queues'],
      ['GET', '/admin/queues/'],
      ['GET', '/admin/queues/queue/steps'],
      ['GET', '/admin/queues/api/queues'],
      ['GET', '/ADMIN/Queues/api/queues'],
      ['PUT', '/admin/queues/api/queues/steps/pause'],
    ])('answers %s %s without credentials with 401 and a Basic challenge', async (method, path) => {
      const response = await (method === 'GET' ? sut.http.get(path) : sut.http.put(path)).expect(401);
      expect(response.headers['www-authenticate']).toBe('Basic realm="dunning"');
      // The board did not run after the refusal: the answer is ours, not its page or its JSON.
      expect(response.body).toMatchObject({ statusCode: 401 });
      expect(response.text).not.toContain('steps');
    });

    it("refuses wrong secrets, a name that is not the secret's, and bearer tokens", async () => {
      await sut.http
        .get('/admin/queues')
        .set(basic('operator', `${KEYS.operator}x`))
        .expect(401);
      await sut.http
        .get('/admin/queues')
        .set({ Authorization: `Basic ${Buffer.from(`auditor-key:${KEYS.operator}`).toString('base64')}` })
        .expect(401);
      await sut.http.get('/admin/queues').set(bearer('operator')).expect(401);
      await sut.http.get('/admin/queues').set({ Authorization: 'Basic !!!' }).expect(401);
    });

    it('refuses roles without the dashboard with 403, writes too', async () => {
      for (const role of ['finance', 'ingest'] as const) {
        await sut.http.get('/admin/queues').set(basic(role)).expect(403);
        await sut.http.put('/admin/queues/api/queues/steps/pause').set(basic(role)).expect(403);
      }
      expect(await sut.queue.isPaused()).toBe(false);
    });

    it('serves operators and admins the board with its actions', async () => {
      for (const role of ['operator', 'admin'] as const) {
        const page = await sut.http.get('/admin/queues').set(basic(role)).expect(200);
        expect(page.headers['content-type']).toContain('text/html');
        const { body } = await sut.http.get('/admin/queues/api/queues').set(basic(role)).expect(200);
        const queues = body.queues as { name: string; readOnlyMode: boolean }[];
        expect(queues.map((queue) => queue.name).sort()).toEqual(['batches', 'steps', 'webhooks']);
        expect(queues.every((queue) => !queue.readOnlyMode)).toBe(true);
      }
    });

    it('serves auditors the read-only board and refuses their writes', async () => {
      await sut.http.get('/admin/queues').set(basic('auditor')).expect(200);
      const { body } = await sut.http.get('/admin/queues/api/queues').set(basic('auditor')).expect(200);
      const queues = body.queues as { name: string; readOnlyMode: boolean }[];
      expect(queues.map((queue) => queue.name).sort()).toEqual(['batches', 'steps', 'webhooks']);
      expect(queues.every((queue) => queue.readOnlyMode)).toBe(true);
      await sut.http.put('/admin/queues/api/queues/steps/pause').set(basic('auditor')).expect(403);
      await sut.http.put('/admin/queues/api/queues/pause').set(basic('auditor')).expect(403);
      expect(await sut.queue.isPaused()).toBe(false);
    });

    it('lets operators pause and resume a queue, and refuses board actions that would rewrite jobs', async () => {
      await sut.http.put('/admin/queues/api/queues/steps/pause').set(basic('operator')).expect(200);
      expect(await sut.queue.isPaused()).toBe(true);
      await sut.http.put('/admin/queues/api/queues/steps/resume').set(basic('operator')).expect(200);
      expect(await sut.queue.isPaused()).toBe(false);
      const stepId = randomUUID();
      await sut.http.post('/admin/queues/api/queues/steps/add').set(basic('operator')).send({ name: JobName.RunStep, data: { stepId } }).expect(403);
      const jobs = await sut.queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
      expect(jobs.filter((job) => job.data.stepId === stepId)).toEqual([]);
    });
  });

  describe('in a browser', () => {
    it('an operator retries a failed notice job from the dashboard: the notice arrives and the retry is a touch naming the operator', async () => {
      const { caseId, stepId, email } = await failedNotice();
      expect(smtp.refusals).toBeGreaterThanOrEqual(1);
      expect(smtp.to(email)).toHaveLength(0);
      smtp.refusing = false;

      browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      const operator = await browser.newContext({ httpCredentials: { username: 'operator-key', password: KEYS.operator } });
      const page = await operator.newPage();
      await page.goto(`${baseUrl}/admin/queues/queue/steps?status=failed`);

      // The job's card: its id links to the job; its actions are icon buttons whose label is a tooltip.
      const jobLink = page.getByRole('link', { name: stepId });
      await jobLink.waitFor();
      const retry = jobLink.locator('xpath=ancestor::div[.//button][1]').getByRole('button').first();
      await retry.hover();
      await page.getByText('Retry', { exact: true }).waitFor();
      await retry.click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Confirm' }).click();

      const mail = await waitFor('the notice after the retry', () => smtp.to(email)[0]);
      expect(mail.subject).toBeTruthy();
      await waitFor('the step to be done', async () => (await stepStatus(caseId)) === 'done');
      const retried = (await touches(caseId)).filter((touch) => touch.kind === 'job.retried');
      expect(retried).toEqual([{ ...retried[0], actor: 'operator-key', data: { queue: 'steps', jobId: stepId, stepId, action: 'retry', via: 'dashboard' } }]);
      await operator.close();

      // The auditor sees the board without its actions.
      const auditor = await browser.newContext({ httpCredentials: { username: 'auditor-key', password: KEYS.auditor } });
      const readOnly = await auditor.newPage();
      await readOnly.goto(`${baseUrl}/admin/queues/queue/steps?status=failed`);
      await readOnly.getByRole('link', { name: 'webhooks' }).waitFor();
      expect(await readOnly.getByRole('button', { name: 'Retry all' }).count()).toBe(0);
      await auditor.close();

      // Without credentials the page is 401. (A headless page turns a Basic challenge it cannot
      // answer into a navigation error, so the fresh context's own HTTP client asks.)
      const anonymous = await browser.newContext();
      const answer = await anonymous.request.get(`${baseUrl}/admin/queues/queue/steps?status=failed`);
      expect(answer.status()).toBe(401);
      expect(answer.headers()['www-authenticate']).toBe('Basic realm="dunning"');
      await expect((await anonymous.newPage()).goto(`${baseUrl}/admin/queues/queue/steps?status=failed`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
      await anonymous.close();
      // The same over plain HTTP, with the server listening for real.
      await request(baseUrl).get('/admin/queues').expect(401);
    });
  });

  describe('board actions', () => {
    it("retry all records one touch per retried job, on each job's case", async () => {
      const first = await failedNotice();
      const second = await failedNotice();
      smtp.refusing = false;
      const { body } = await sut.http.put('/admin/queues/api/queues/steps/retry/failed').set(basic('admin')).expect(200);
      expect(body).toMatchObject({ retried: 2 });
      for (const notice of [first, second]) {
        await waitFor('the notice after retry all', () => smtp.to(notice.email)[0]);
        const retried = (await touches(notice.caseId)).filter((touch) => touch.kind === 'job.retried');
        expect(retried).toEqual([
          expect.objectContaining({
            actor: 'admin-key',
            data: { queue: 'steps', jobId: notice.stepId, stepId: notice.stepId, action: 'retry-all', via: 'dashboard' },
          }),
        ]);
      }
    });

    it('records a promote, and nothing for a retry the board refused', async () => {
      const { caseId } = await failedNotice();
      smtp.refusing = false;
      // The case's next step (an escalation in an hour) waits as a delayed job once the notice is sent.
      const [notice] = (await sut.http.get('/v1/jobs?state=failed').set(bearer('operator')).expect(200)).body.items.filter(
        (item: { caseId?: string }) => item.caseId === caseId,
      );
      await sut.http.post(`/v1/jobs/${notice.id}/retry`).set(bearer('operator')).expect(200);
      const next: string = (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('operator')).expect(200)).body.schedule[1].id;
      await waitFor("the next step's delayed job", async () => (await (await sut.queue.getJob(next))?.getState()) === 'delayed');

      await sut.http.put(`/admin/queues/api/queues/steps/${next}/retry`).set(basic('operator')).expect(400);
      await sut.http.put(`/admin/queues/api/queues/steps/${next}/promote`).set(basic('operator')).expect(204);
      const operatorTouches = (await touches(caseId)).filter((touch) => touch.kind.startsWith('job.'));
      expect(operatorTouches.map((touch) => [touch.kind, touch.data.action, touch.data.jobId])).toEqual([
        ['job.retried', 'retry', notice.id],
        ['job.promoted', 'promote', next],
      ]);
    });
  });

  describe('operator jobs API', () => {
    it('lists failed jobs with their case, and retries one: the notice arrives and the retry is a touch', async () => {
      const { caseId, stepId, email } = await failedNotice();
      const { body } = await sut.http.get('/v1/jobs?queue=steps&state=failed').set(bearer('operator')).expect(200);
      const item = (body.items as { id: string }[]).find((entry) => entry.id === stepId);
      expect(item).toEqual({
        id: stepId,
        queue: 'steps',
        name: JobName.RunStep,
        data: { stepId },
        state: 'failed',
        attemptsMade: 1,
        failedReason: expect.stringContaining('451'),
        timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        caseId,
      });
      // The default listing is the steps queue's failed jobs.
      expect((await sut.http.get('/v1/jobs').set(bearer('admin')).expect(200)).body.items.map((entry: { id: string }) => entry.id)).toContain(stepId);

      smtp.refusing = false;
      const retried = await sut.http.post(`/v1/jobs/${stepId}/retry`).set(bearer('operator')).expect(200);
      expect(retried.body).toMatchObject({ id: stepId, queue: 'steps', caseId });
      await waitFor('the notice after the API retry', () => smtp.to(email)[0]);
      await waitFor('the step to be done', async () => (await stepStatus(caseId)) === 'done');
      const touch = (await touches(caseId)).filter((entry) => entry.kind === 'job.retried');
      expect(touch).toEqual([expect.objectContaining({ actor: 'operator-key', data: { queue: 'steps', jobId: stepId, stepId, action: 'retry', via: 'api' } })]);
      expect(smtp.to(email)).toHaveLength(1);
    });

    it('retries by queue and id too', async () => {
      const { caseId, stepId, email } = await failedNotice();
      smtp.refusing = false;
      await sut.http.post(`/v1/jobs/steps/${stepId}/retry`).set(bearer('admin')).expect(200);
      await waitFor('the notice', () => smtp.to(email)[0]);
      expect((await touches(caseId)).filter((entry) => entry.kind === 'job.retried')).toEqual([expect.objectContaining({ actor: 'admin-key' })]);
    });

    it('answers 404 for an unknown job, 409 for a job that is not failed, 400 for an unknown queue', async () => {
      await sut.http.post(`/v1/jobs/${randomUUID()}/retry`).set(bearer('operator')).expect(404);
      await sut.http.post(`/v1/jobs/${randomUUID()}/retry?queue=webhooks`).set(bearer('operator')).expect(404);
      // A queue's own key names are not jobs: a 400 naming the id, never a Redis WRONGTYPE.
      for (const path of ['/v1/jobs/events/retry', '/v1/jobs/steps/meta/retry', '/v1/jobs/a%20b/retry']) {
        const refused = await sut.http.post(path).set(bearer('admin')).expect(400);
        expect(refused.body.message).toMatch(/^id: /);
      }
      await sut.http.post(`/v1/jobs/webhooks/${randomUUID()}/retry`).set(bearer('operator')).expect(404);
      await sut.http.post(`/v1/jobs/letters/${randomUUID()}/retry`).set(bearer('operator')).expect(400);
      await sut.http.get('/v1/jobs?state=stuck').set(bearer('operator')).expect(400);

      const id = `held-${randomUUID()}`;
      await sut.queue.add(JobName.RunStep, { stepId: randomUUID() }, { jobId: id, delay: 3_600_000 });
      const conflict = await sut.http.post(`/v1/jobs/${id}/retry`).set(bearer('operator')).expect(409);
      expect(conflict.body.message).toContain('delayed');
      const delayed = await sut.http.get('/v1/jobs?state=delayed').set(bearer('operator')).expect(200);
      const held = (delayed.body.items as { id: string }[]).find((item) => item.id === id);
      // Its payload names no step row, so it belongs to no case.
      expect(held).toEqual(expect.objectContaining({ id, state: 'delayed' }));
      expect(held).not.toHaveProperty('caseId');
      await sut.queue.remove(id);

      const webhooks = sut.app.get(JobQueue).queue(QueueName.Webhooks);
      expect((await sut.http.get('/v1/jobs?queue=webhooks&state=failed').set(bearer('operator')).expect(200)).body).toEqual({ items: [], nextCursor: null });
      expect(await webhooks.getJobCounts('failed')).toEqual({ failed: 0 });
    });

    it('is for operators and admins only', async () => {
      for (const role of ['finance', 'auditor', 'ingest'] as const) {
        await sut.http.get('/v1/jobs').set(bearer(role)).expect(403);
        await sut.http.post(`/v1/jobs/${randomUUID()}/retry`).set(bearer(role)).expect(403);
      }
      await sut.http.get('/v1/jobs').expect(401);
    });
  });
});
