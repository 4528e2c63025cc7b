import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { PDFParse } from 'pdf-parse';
import { type Browser, chromium, type Page } from 'playwright-core';
import { signSelfServiceToken } from '../../src/channels/self-service-link';
import { FixedClock } from '../support/fixed-clock';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, clearRedis, overdueEvent, runStepAgain, SHARED_REDIS_DB, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/** Where the phone-sized screenshot goes (ignored by git), for people to look at. */
const OUTPUT = join(process.cwd(), 'test-output', 'self-service');

/** Waits for the page's fonts and counts the faces of its own Chinese font that loaded (a string: the test's types have no DOM). */
const pageFontsLoaded = (page: { evaluate: (expression: string) => Promise<unknown> }): Promise<number> =>
  page.evaluate(
    `document.fonts.ready.then(() => [...document.fonts].filter((face) => face.family.includes('Noto Sans SC') && face.status === 'loaded').length)`,
  ) as Promise<number>;
const PHONE = { width: 390, height: 844 };
/** A PDF's text without its line breaks and spaces, so a wrapped link reads whole. */
const pdfText = async (pdf: Buffer) => (await new PDFParse({ data: new Uint8Array(pdf) }).getText()).text.replace(/\s+/g, '');

/** A port free now, so PUBLIC_URL (the origin the forms must come from) can name it before the app starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Touch {
  kind: string;
  actor: string;
  data: Record<string, unknown>;
}

describe('debtor self-service page in Chromium', () => {
  const smtp = new SmtpSink();
  let sut: TestApp;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    sut = await startTestApp('self_service', SHARED_REDIS_DB, {
      SMTP_URL: await smtp.start(),
      PUBLIC_URL: baseUrl,
      PAYMENT_LINK: 'https://pay.example.com/checkout?case={case}&ref={invoice}',
      SELF_SERVICE_SECRET: randomBytes(32).toString('hex'),
      SELF_SERVICE_LINK_TTL: 'P30D',
      // Redis databases 1–14 are the older suites'; this one shares database 0 under a prefix of its own.
      QUEUE_PREFIX: `test-self-service-${randomBytes(4).toString('hex')}`,
    });
    await sut.app.listen(port, '127.0.0.1');
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    mkdirSync(OUTPUT, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await sut?.close();
    await smtp.stop();
    if (sut) await clearRedis(sut.config);
  });

  const caseDetail = async (caseId: string) => (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('operator')).expect(200)).body;
  const touches = async (caseId: string) =>
    (await sut.http.get(`/v1/cases/${caseId}/touches?limit=500`).set(bearer('auditor')).expect(200)).body.items as Touch[];
  const today = () => DateTime.now().setZone('Europe/Berlin').toISODate()!;
  const inDays = (days: number) => DateTime.now().setZone('Europe/Berlin').plus({ days }).toISODate()!;

  /** Opens a case whose first notice (or letter) goes at once, and takes the self-service link from the email as delivered. */
  async function caseWithNotice(debtor: Record<string, unknown> = {}, segment = 'at-once') {
    const event = overdueEvent({ segment, debtor });
    const response = await sut.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
    const caseId = response.body.results[0].caseId as string;
    const mail = await waitFor('the notice at the SMTP server', () => smtp.to(event.data.debtor.email)[0]);
    const link = /(http:\/\/127\.0\.0\.1:\d+\/v1\/self-service\/[A-Za-z0-9._-]+)/.exec(mail.text)?.[1];
    expect(link).toBeDefined();
    expect(mail.html).toContain(`href="${link}"`);
    return { caseId, link: link!, event };
  }

  async function phonePage(): Promise<Page> {
    const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    return context.newPage();
  }

  it('opens from the notice, and a promise, a plan inside the bounds and a dispute each change the case as the API shows', async () => {
    const { caseId, link, event } = await caseWithNotice();
    const page = await phonePage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });

    const opened = await page.goto(link);
    expect(opened?.status()).toBe(200);
    expect(opened?.headers()['content-security-policy']).toContain("default-src 'none'");
    expect(await page.locator('h1').textContent()).toBe('Account of Ana Debtor with Accounts Receivable');
    expect(await page.locator('#total-due').textContent()).toBe('€1,250.00');
    const pay = page.getByRole('link', { name: 'Pay online' });
    expect(await pay.getAttribute('href')).toBe(`https://pay.example.com/checkout?case=${caseId}&ref=${event.data.invoice.externalId}`);
    expect(await page.getByText(`Quote this reference with your payment: ${event.data.invoice.externalId}.`).count()).toBe(1);
    // Every field is labelled, and nothing is wider than the phone.
    for (const label of ['Amount (EUR)', 'Payment date', 'Number of monthly instalments', 'Date of the first instalment', 'Your reason']) {
      expect(await page.getByLabel(label).count()).toBe(1);
    }
    expect(
      await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth),
    ).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: join(OUTPUT, 'self-service-390x844.png') });
    await page.screenshot({ path: join(OUTPUT, 'self-service-390-full.png'), fullPage: true });
    const viewed = (await touches(caseId)).filter((t) => t.kind === 'self-service.viewed');
    expect(viewed).toEqual([
      expect.objectContaining({ actor: 'debtor', data: expect.objectContaining({ principal: '1250.00', fees: '0.00', totalDue: '1250.00', locale: 'en' }) }),
    ]);

    // A promise: the same promise and hold an operator's would make, by the debtor.
    await page.getByLabel('Amount (EUR)').fill('400.00');
    await page.getByLabel('Payment date').fill(inDays(7));
    await page.getByRole('button', { name: 'Promise this payment' }).click();
    await page.getByRole('status').waitFor();
    expect(await page.getByRole('status').textContent()).toContain('your promise to pay 400.00 EUR');
    let detail = await caseDetail(caseId);
    expect(detail.status).toBe('on_hold');
    expect(detail.holds).toEqual([expect.objectContaining({ kind: 'promise' })]);
    let trail = await touches(caseId);
    expect(trail.find((t) => t.kind === 'promise.recorded')).toMatchObject({
      actor: 'debtor',
      data: { amount: '400.00', dueDate: inDays(7), source: 'self-service' },
    });

    // A plan inside the bounds: agreed at once, replacing the promise.
    await page.getByLabel('Number of monthly instalments').selectOption('3');
    await page.getByLabel('Date of the first instalment').fill(inDays(10));
    await page.getByRole('button', { name: 'Propose this plan' }).click();
    await page.getByText('your plan of 3 monthly instalments is agreed').waitFor();
    trail = await touches(caseId);
    const agreed = trail.find((t) => t.kind === 'plan.agreed');
    expect(agreed).toMatchObject({ actor: 'debtor' });
    expect((agreed!.data.instalments as { amount: string }[]).map((i) => i.amount)).toEqual(['416.68', '416.66', '416.66']);
    detail = await caseDetail(caseId);
    expect(detail.holds.filter((h: { releasedAt: string | null }) => !h.releasedAt).map((h: { kind: string }) => h.kind)).toEqual(['plan']);

    // A dispute with a reason: a dispute hold.
    await page.getByLabel('Your reason').fill('The goods arrived damaged.');
    await page.getByRole('button', { name: 'Send the dispute' }).click();
    await page.getByText('your dispute is received').waitFor();
    detail = await caseDetail(caseId);
    expect(
      detail.holds
        .filter((h: { releasedAt: string | null }) => !h.releasedAt)
        .map((h: { kind: string }) => h.kind)
        .sort(),
    ).toEqual(['dispute', 'plan']);
    trail = await touches(caseId);
    expect(trail.filter((t) => t.kind === 'hold.placed').at(-1)).toMatchObject({
      actor: 'debtor',
      data: { kind: 'dispute', reason: 'disputed by the debtor: The goods arrived damaged.' },
    });
    expect(errors).toEqual([]);
    expect((await sut.http.get('/v1/audit/verify').set(bearer('auditor')).expect(200)).body.ok).toBe(true);
    await page.context().close();
  });

  it('in Chinese for a zh-CN debtor; a plan outside the bounds goes to a collector as a proposal', async () => {
    const { caseId, link } = await caseWithNotice({ locale: 'zh-CN', name: '李雷' });
    const page = await phonePage();
    await page.goto(link);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await page.locator('h1').textContent()).toBe('李雷在Accounts Receivable的账户');
    // Drawn in the page's own Chinese font, whatever fonts the phone has (Debian's Chromium here has none).
    expect(await pageFontsLoaded(page)).toBeGreaterThan(0);
    await page.getByLabel('分期期数（每月一期）').selectOption('12');
    await page.getByLabel('首期还款日期').fill(inDays(5));
    await page.getByRole('button', { name: '提交分期申请' }).click();
    await page.getByText('已转交催收专员').waitFor();
    await pageFontsLoaded(page);
    await page.screenshot({ path: join(OUTPUT, 'self-service-zh-CN-390x844.png') });
    const trail = await touches(caseId);
    const proposed = trail.find((t) => t.kind === 'plan.proposed');
    expect(proposed).toMatchObject({ actor: 'debtor', data: { outside: 'more than 6 instalments' } });
    expect(trail.some((t) => t.kind === 'plan.agreed')).toBe(false);
    const items = (await sut.http.get(`/v1/work-items?caseId=${caseId}`).set(bearer('operator')).expect(200)).body.items;
    expect(items).toEqual([expect.objectContaining({ id: proposed!.data.workItemId, kind: 'collector', status: 'open' })]);
    await page.context().close();
  });

  it('refuses an altered link and an expired one with the same page, and changes nothing', async () => {
    const { caseId, link } = await caseWithNotice();
    const last = link.at(-1)!;
    const altered = `${link.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`;
    const page = await phonePage();
    const refused = await page.goto(altered);
    expect(refused?.status()).toBe(404);
    expect(await page.textContent('body')).toContain('this link is not valid or has expired');

    const clock = FixedClock.install(sut.app, DateTime.now().plus({ days: 31 }).toJSDate());
    try {
      expect((await page.goto(link))?.status()).toBe(404);
      expect(await page.textContent('body')).toContain('this link is not valid or has expired');
    } finally {
      clock.restore();
    }
    expect((await page.goto(link))?.status()).toBe(200);
    expect((await touches(caseId)).filter((t) => t.kind === 'self-service.viewed')).toHaveLength(1);
    await page.context().close();
  });

  it('refuses a form from another origin or without the page token, and names a bad field with nothing changed', async () => {
    const { caseId, link } = await caseWithNotice();
    const path = new URL(link).pathname;
    const html = (await sut.http.get(path).expect(200)).text;
    const formToken = /name="formToken" value="([^"]+)"/.exec(html)![1]!;
    const before = (await touches(caseId)).length;

    await sut.http.post(`${path}/dispute`).set('Origin', 'https://evil.example').type('form').send({ formToken, reason: 'not mine' }).expect(403);
    await sut.http.post(`${path}/dispute`).set('Origin', baseUrl).type('form').send({ reason: 'not mine' }).expect(403);
    const late = await sut.http
      .post(`${path}/promise`)
      .set('Origin', baseUrl)
      .type('form')
      .send({ formToken, amount: '100.00', dueDate: inDays(45) })
      .expect(400);
    expect(late.text).toContain('dueDate: must be no later than');
    const bad = await sut.http.post(`${path}/promise`).set('Origin', baseUrl).type('form').send({ formToken, amount: 'lots', dueDate: today() }).expect(400);
    expect(bad.text).toContain('form.amount');

    expect(await touches(caseId)).toHaveLength(before);
    expect((await caseDetail(caseId)).holds).toEqual([]);
  });

  /** Posts one of the page's forms as the page itself would. */
  async function postForm(link: string, form: 'promise' | 'plan' | 'dispute' | 'preferences', fields: Record<string, string>) {
    const path = new URL(link).pathname;
    const html = (await sut.http.get(path).expect(200)).text;
    const formToken = /name="formToken" value="([^"]+)"/.exec(html)![1]!;
    return sut.http
      .post(`${path}/${form}`)
      .set('Origin', baseUrl)
      .type('form')
      .send({ formToken, ...fields });
  }

  it("takes its bounds from the case's policy: the page states them, and a plan or a promise past them is not agreed", async () => {
    const { caseId, link } = await caseWithNotice({}, 'self-service-tight');
    const html = (await sut.http.get(new URL(link).pathname).expect(200)).text;
    expect(html).toContain('A plan of up to 3 instalments whose first is due by');
    expect(html).toContain(`max="${inDays(14)}"`);

    const late = await postForm(link, 'promise', { amount: '100.00', dueDate: inDays(15) });
    expect(late.status).toBe(400);
    expect(late.text).toContain(`dueDate: must be no later than ${inDays(14)} (P14D from today)`);
    expect((await postForm(link, 'plan', { instalments: '4', firstDate: inDays(3) })).status).toBe(200);
    const trail = await touches(caseId);
    expect(trail.find((t) => t.kind === 'plan.proposed')).toMatchObject({ actor: 'debtor', data: { outside: 'more than 3 instalments' } });
    expect(trail.some((t) => t.kind === 'promise.recorded' || t.kind === 'plan.agreed')).toBe(false);
  });

  it('names what is wrong with a form in Chinese for a zh-CN debtor, and changes nothing', async () => {
    const { caseId, link } = await caseWithNotice({ locale: 'zh-CN', name: '韩梅梅' });
    const before = (await touches(caseId)).length;
    const late = await postForm(link, 'promise', { amount: '100.00', dueDate: inDays(45) });
    expect(late.status).toBe(400);
    expect(late.text).toContain('还款日期有误：须在今天至');
    const bad = await postForm(link, 'promise', { amount: 'lots', dueDate: today() });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('金额有误');
    expect(bad.text).not.toContain('form.amount');
    // Each GET of the page for its form token is a view; nothing else was recorded.
    expect((await touches(caseId)).slice(before).map((t) => t.kind)).toEqual(['self-service.viewed', 'self-service.viewed']);
  });

  it("serves the debtor's letters through the link as issued, and the letter itself carries a link to the page", async () => {
    const { caseId, link } = await caseWithNotice({}, 'letter-at-once');
    const [letter] = (await caseDetail(caseId)).letters as { id: string; number: string }[];
    const issued = (await sut.http.get(`/v1/letters/${letter!.id}/pdf`).set(bearer('auditor')).buffer(true).expect(200)).body as Buffer;

    const page = await phonePage();
    await page.goto(link);
    const href = await page.getByRole('link', { name: new RegExp(`Letter ${letter!.number}`) }).getAttribute('href');
    expect(href).toBe(`${new URL(link).pathname}/letters/${letter!.id}`);
    await page.context().close();
    const served = await sut.http.get(href!).buffer(true).expect(200);
    expect(served.headers['content-type']).toBe('application/pdf');
    expect(Buffer.compare(served.body as Buffer, issued)).toBe(0);
    expect((await touches(caseId)).at(-1)).toMatchObject({ kind: 'self-service.viewed', actor: 'debtor', data: { letter: letter!.number } });

    writeFileSync(join(OUTPUT, 'letter-with-link.pdf'), issued);
    const inLetter = /(http:\/\/127\.0\.0\.1:\d+\/v1\/self-service\/[0-9a-f-]{36}\.\d+\.[A-Za-z0-9_-]{43})/.exec(await pdfText(issued))?.[1];
    expect(inLetter).toBeDefined();
    // The letter says until when its link works: the last whole day of SELF_SERVICE_LINK_TTL.
    expect(await pdfText(issued)).toContain(
      `alsoonlineuntil${DateTime.now().setZone('Europe/Berlin').plus({ days: 29 }).toFormat('dMMMMyyyy', { locale: 'en-GB' })},`,
    );
    expect((await sut.http.get(new URL(inLetter!).pathname).expect(200)).text).toContain('Account of Ana Debtor');

    // Another case's link does not reach this letter.
    const other = await caseWithNotice();
    await sut.http.get(`${new URL(other.link).pathname}/letters/${letter!.id}`).expect(404);
    await sut.http.get(`${new URL(other.link).pathname}/letters/not-a-letter`).expect(404);
  });

  it("an operator's revocation refuses every link issued until then, on the record; a later link works", async () => {
    const { caseId, link } = await caseWithNotice();
    const path = new URL(link).pathname;
    await sut.http.post(`/v1/cases/${caseId}/self-service/revoke`).set(bearer('operator')).send({}).expect(400);
    await sut.http.post(`/v1/cases/${caseId}/self-service/revoke`).set(bearer('auditor')).send({ reason: 'sent to the wrong address' }).expect(403);
    const revoked = await sut.http
      .post(`/v1/cases/${caseId}/self-service/revoke`)
      .set(bearer('operator'))
      .send({ reason: 'sent to the wrong address' })
      .expect(201);
    expect(revoked.body).toEqual({ caseId, revokedAt: expect.any(String) });
    const refused = await sut.http.get(path).expect(404);
    expect(refused.body.message).toBe('this link is not valid or has expired');
    expect((await touches(caseId)).at(-1)).toMatchObject({
      kind: 'self-service.link_revoked',
      data: { reason: 'sent to the wrong address', revokedAt: revoked.body.revokedAt },
    });

    // A message made after the revocation carries a link issued later, which works.
    const later = signSelfServiceToken(sut.config.SELF_SERVICE_SECRET!, caseId, new Date(Date.parse(revoked.body.revokedAt) + 1000));
    await sut.http.get(`/v1/self-service/${later}`).expect(200);
    await sut.http.post(`/v1/cases/00000000-0000-4000-8000-000000000000/self-service/revoke`).set(bearer('operator')).send({ reason: 'x' }).expect(404);
  });

  /** Runs step `index` of the case as if its time had come (the clock moved on by `hours`). */
  async function runStep(caseId: string, index: number, hours: number): Promise<void> {
    const step = (await caseDetail(caseId)).schedule[index] as { id: string };
    const clock = FixedClock.install(sut.app, DateTime.now().plus({ hours, minutes: 1 }).toJSDate());
    try {
      await runStepAgain(sut.queue, step.id);
    } finally {
      clock.restore();
    }
  }

  it('keeps to the contact preferences the debtor sets: a declined channel is not used for reminders', async () => {
    const { caseId, link } = await caseWithNotice({ phone: '+4915112345678' }, 'delivery-fallback');
    const page = await phonePage();
    await page.goto(link);
    const byEmail = page.getByLabel('Reminders by email');
    expect(await byEmail.isChecked()).toBe(true);
    await byEmail.uncheck();
    await page.getByRole('button', { name: 'Save my preferences' }).click();
    await page.getByText('Your contact preferences are saved.').waitFor();
    expect(await page.getByLabel('Reminders by email').isChecked()).toBe(false);
    expect(await page.getByLabel('Reminders by text message').isChecked()).toBe(true);
    await page.context().close();
    expect((await touches(caseId)).filter((t) => t.kind === 'debtor.updated')).toEqual([
      expect.objectContaining({ actor: 'debtor', data: expect.objectContaining({ declinedChannels: ['email'], before: [] }) }),
    ]);

    // The next email reminder falls back to SMS, saying why.
    await runStep(caseId, 1, 1);
    expect((await touches(caseId)).find((t) => t.kind === 'step.rerouted')).toMatchObject({
      data: { from: 'email', to: 'sms', reason: 'the debtor asked for no reminders by email' },
    });

    // With text messages declined too, an email reminder without another way is skipped; posting the same choice again records nothing.
    await postForm(link, 'preferences', {});
    await postForm(link, 'preferences', {});
    expect((await touches(caseId)).filter((t) => t.kind === 'debtor.updated')).toHaveLength(2);
    await runStep(caseId, 3, 3);
    expect((await touches(caseId)).filter((t) => t.kind === 'step.skipped').at(-1)).toMatchObject({
      data: { reason: expect.stringContaining('the debtor asked for no reminders by email') },
    });
  });
});
