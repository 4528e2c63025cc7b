import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DateTime } from 'luxon';
import { PDFParse } from 'pdf-parse';
import { LegalClockCheck } from '../../src/letters/legal-clock-check.service';
import { type ReceivedMail, SmtpSink } from '../support/smtp-sink';
import { FixedClock } from '../support/fixed-clock';
import { bearer, clearRedis, letterPdf, overdueEvent, paymentEvent, runStepAgain, SHARED_REDIS_DB, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

interface Touch {
  kind: string;
  at: string;
  channel: string | null;
  data: Record<string, unknown>;
}

const pdfText = async (pdf: Buffer) => {
  const parser = new PDFParse({ data: new Uint8Array(pdf) });
  try {
    return (await parser.getText()).text;
  } finally {
    await parser.destroy();
  }
};
/** PDF text extraction may break lines anywhere (CJK); compare without whitespace. */
const squash = (text: string) => text.replace(/\s+/g, '');

// What every notice and letter must say: how to pay and where to dispute (the settings below).
const ROUTES = {
  CREDITOR_NAME: 'Acme Lending Ltd',
  PAYMENT_PAYEE: 'Acme Lending Ltd',
  PAYMENT_BANK: 'Berliner Bank',
  PAYMENT_ACCOUNT: 'DE89370400440532013000',
  DISPUTE_EMAIL: 'disputes@acme.test',
  DISPUTE_PHONE: '+49 30 555 0100',
};
const ROUTE_FACTS = [ROUTES.PAYMENT_ACCOUNT, ROUTES.DISPUTE_EMAIL, ROUTES.DISPUTE_PHONE];

/** Words that claim an earlier contact; a first contact says none of them. */
const EARLIER_CONTACT = {
  en: /again|second reminder|despite|earlier|reminded you|we have sent you|we have written/i,
  'zh-CN': /再次|多次|已提醒|提醒过|已就此提醒|已向您发/,
};

const run = promisify(execFile);
/** poppler's verdict on a PDF's signature (pdfsig exits 0 whether or not it is valid). */
async function pdfsig(pdf: Buffer): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pdfsig-'));
  try {
    writeFileSync(join(dir, 'letter.pdf'), pdf);
    const { stdout } = await run('pdfsig', [join(dir, 'letter.pdf')]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('true letters: the legal record, step requirements, period-exact fees, signed PDFs', () => {
  const smtp = new SmtpSink();
  let sut: TestApp;
  let shipped: TestApp;

  beforeAll(async () => {
    const smtpUrl = await smtp.start();
    // Every Redis database of its own is taken: these two share database 0 by their queue prefixes.
    const prefix = `e2e-true-letters-${randomUUID().slice(0, 8)}`;
    sut = await startTestApp('true_letters', SHARED_REDIS_DB, { SMTP_URL: smtpUrl, QUEUE_PREFIX: prefix, ...ROUTES });
    // The policies users get, as shipped.
    shipped = await startTestApp('true_letters_shipped', SHARED_REDIS_DB, {
      SMTP_URL: smtpUrl,
      QUEUE_PREFIX: `${prefix}-shipped`,
      POLICIES_DIR: 'policies',
      ...ROUTES,
    });
  });

  afterAll(async () => {
    await sut?.close();
    await shipped?.close();
    // Database 0 is shared: leave none of this suite's keys behind.
    for (const app of [sut, shipped]) if (app) await clearRedis(app.config);
    await smtp.stop();
  });

  const api = (app: TestApp) => ({
    post: (body: object) => app.http.post('/v1/events').set(bearer('ingest')).send(body),
    detail: async (caseId: string) => (await app.http.get(`/v1/cases/${caseId}`).set(bearer('finance')).expect(200)).body,
    touches: async (caseId: string) => (await app.http.get(`/v1/cases/${caseId}/touches?limit=500`).set(bearer('auditor')).expect(200)).body.items as Touch[],
    open: async (event: ReturnType<typeof overdueEvent>) => {
      const response = await app.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
      expect(response.body.results[0]).toMatchObject({ status: 'accepted' });
      return response.body.results[0].caseId as string;
    },
    pdf: async (letterId: string) => {
      const { bytes, response } = await letterPdf(app, letterId);
      expect(response.status).toBe(200);
      return bytes;
    },
  });
  /** The letter.sent-by-email touches of a case, oldest first, once `count` are there. */
  const lettersSent = (app: TestApp, caseId: string, count: number) =>
    waitFor(`${count} letter(s) sent on ${caseId}`, async () => {
      const sent = (await api(app).touches(caseId)).filter((t) => t.kind === 'letter.sent' && t.channel === 'email');
      return sent.length >= count ? sent : null;
    });

  describe.each([
    ['consumer-default', 'first-time'],
    ['b2b-default', 'b2b'],
  ])('a case opened 45 days past due under the shipped %s policy', (policy, segment) => {
    it.each(['en', 'zh-CN'] as const)('contacts first without claiming earlier contact, then demands before it could terminate (%s)', async (locale) => {
      const http = api(shipped);
      const event = overdueEvent({
        segment,
        invoice: { currency: locale === 'en' ? 'EUR' : 'CNY', dueDate: DateTime.now().minus({ days: 45 }).toISODate(), contractDate: '2025-06-01' },
        debtor: { locale, name: locale === 'en' ? 'Ana Debtor' : '张伟', timezone: 'Europe/Berlin' },
      });
      const caseId = await http.open(event);
      expect((await http.detail(caseId)).policy.key).toBe(policy);

      // The first contact goes now, and says nothing of reminders that were never sent.
      const first = await waitFor('the first notice', () => smtp.to(event.data.debtor.email)[0]);
      expect(first.attachments).toHaveLength(0);
      for (const part of [first.subject, first.text]) expect(part).not.toMatch(EARLIER_CONTACT[locale]);
      for (const fact of ROUTE_FACTS) expect(first.text).toContain(fact);

      // Everything else the ladder holds, run now as a dunning run far ahead would run it.
      await shipped.http
        .post('/v1/batches')
        .set(bearer('finance'))
        .set('Idempotency-Key', `run-${randomUUID()}`)
        .send({ kind: 'dunning-run', asOf: DateTime.now().plus({ days: 120 }).toISODate(), filter: { segment } })
        .expect(202);
      const [demand] = await lettersSent(shipped, caseId, 1);
      expect(demand!.data.type).toBe('payment-demand');
      const pdf = await http.pdf(demand!.data.letterId as string);
      const text = await pdfText(pdf);
      expect(text).not.toMatch(EARLIER_CONTACT[locale]);
      for (const fact of ROUTE_FACTS) expect(squash(text)).toContain(squash(fact));

      // A termination (consumer-default has one) waits for a delivered demand and its cure period: it is not sent.
      const terminationStep = (await http.detail(caseId)).schedule.find((s: { letter?: string }) => s.letter === 'contract-termination');
      if (terminationStep) {
        const held = await waitFor('the termination to wait or be skipped', async () =>
          (await http.touches(caseId)).find((t) => ['step.deferred', 'step.skipped'].includes(t.kind) && t.data.stepId === terminationStep.id),
        );
        // It waits (for the demand, its delivery or its cure period); it is never dropped.
        expect(held.kind).toBe('step.deferred');
        expect(JSON.stringify(held.data.reasons)).toMatch(/payment demand/);
      }
      const trail = await http.touches(caseId);
      expect(trail.filter((t) => t.kind === 'letter.sent').every((t) => t.data.type !== 'contract-termination')).toBe(true);
    });
  });

  const TERMINATION_WORDS = { en: /terminat/i, 'zh-CN': /解除|终止合同/ };
  const DEMAND_TITLE = { en: 'Demand for Payment No. ', 'zh-CN': '《催款通知书》（编号：' };

  it.each(['en', 'zh-CN'] as const)(
    'terminates only after a delivered demand and its cure period; then no letter warns of termination and none terminates again (%s)',
    async (locale) => {
      const http = api(sut);
      const event = overdueEvent({ segment: 'true-letters', debtor: { locale } });
      const caseId = await http.open(event);

      const [demand] = await lettersSent(sut, caseId, 1);
      // The termination waits for the cure period after the demand reached the debtor, and for its day to pay.
      const waited = await waitFor('the termination to wait', async () => (await http.touches(caseId)).find((t) => t.kind === 'step.deferred'));
      expect(waited.data.index).toBe(1);
      expect(JSON.stringify(waited.data.reasons)).toMatch(/cure period after payment demand L-\d{4}-\d{6}/);
      const until = new Date(waited.data.until as string);
      expect(until.getTime()).toBeGreaterThanOrEqual(new Date(demand!.at).getTime() + 4000);

      // Four days on (past the cure and the P3D steps): the termination runs, and the ladder goes
      // on from it in its order.
      const [, firstTermination] = (await http.detail(caseId)).schedule as { id: string }[];
      const clock = FixedClock.install(sut.app, DateTime.now().plus({ days: 4 }).toJSDate());
      let sent: Touch[];
      try {
        expect(await runStepAgain(sut.queue, firstTermination!.id)).toBe('issued');
        sent = await lettersSent(sut, caseId, 3);
      } finally {
        clock.restore();
      }
      const [, termination, later] = sent;
      expect([demand!.data.type, termination!.data.type, later!.data.type]).toEqual(['payment-demand', 'contract-termination', 'payment-demand']);
      expect(new Date(termination!.at).getTime()).toBeGreaterThanOrEqual(until.getTime());
      const trail = await http.touches(caseId);
      // The second termination is skipped: the contract is no longer in force.
      const skipped = trail.find((t) => t.kind === 'step.skipped')!;
      expect(skipped.data).toMatchObject({ action: 'letter', index: 2 });
      expect(skipped.data.reason).toMatch(/^the contract (termination was sent|was terminated) by letter L-/);
      expect(trail.filter((t) => t.kind === 'letter.sent' && t.data.type === 'contract-termination')).toHaveLength(1);

      // The termination cites the demand sent to this debtor; nothing after it threatens termination.
      const terminationText = squash(await pdfText(await http.pdf(termination!.data.letterId as string)));
      expect(terminationText).toContain(squash(`${DEMAND_TITLE[locale]}${demand!.data.number as string}`));
      const laterText = await pdfText(await http.pdf(later!.data.letterId as string));
      expect(laterText).not.toMatch(TERMINATION_WORDS[locale]);
      for (const fact of ROUTE_FACTS) expect(squash(laterText)).toContain(squash(fact));
      const finalNotice = smtp.to(event.data.debtor.email).find((mail) => mail.attachments.length === 0)!;
      expect(finalNotice.text).not.toMatch(TERMINATION_WORDS[locale]);
      for (const fact of ROUTE_FACTS) expect(finalNotice.text).toContain(fact);
      const detail = await http.detail(caseId);
      expect(detail.legal.contract).toMatchObject({ status: 'terminated', terminatedBy: { number: termination!.data.number } });
      expect(detail.legal.demands).toMatchObject({ sent: 2, delivered: 2 });
    },
  );

  describe('a part payment in the middle of the overdue period', () => {
    // 1,250.00 due 20 days ago at 0.04 % a day; 500.00 paid 10 days ago. The fee runs by balance
    // period, each payment ending one, the payment day still on the old balance:
    //   days 1–10 on 1,250.00: 1,250.00 × 10 × 0.0004 = 5.00
    // Costs, then interest, then principal (the default, PRC Civil Code art. 561): the 500.00
    // pays the 5.00 fee, then 495.00 of principal, leaving 755.00.
    //   days 11–20 on 755.00: 755.00 × 10 × 0.0004 = 3.02
    // Fee 8.02, of which 5.00 paid: 3.02 owed; total due 755.00 + 3.02 = 758.02.
    // Principal first (the invoice's own setting): 500.00 → principal 750.00;
    //   days 11–20 on 750.00: 3.00; fee 8.00 all owed; total 750.00 + 8.00 = 758.00.
    it.each([
      [
        'costs, interest, principal',
        undefined,
        {
          applied: { toInterest: '5.00', toPrincipal: '495.00' },
          principalOutstanding: '755.00',
          accrued: '8.02',
          outstanding: '3.02',
          totalDue: '758.02',
          second: '755.00 × 10 days × 0.04 % = 3.02',
        },
      ],
      [
        'principal first',
        ['principal', 'interest', 'costs'],
        {
          applied: { toInterest: '0.00', toPrincipal: '500.00' },
          principalOutstanding: '750.00',
          accrued: '8.00',
          outstanding: '8.00',
          totalDue: '758.00',
          second: '750.00 × 10 days × 0.04 % = 3.00',
        },
      ],
    ])('states the period-exact fee the same in the PDF, the case API and a batch item (%s)', async (_order, paymentAllocation, expected) => {
      const http = api(sut);
      const segment = `true-fees`;
      const today = DateTime.now().setZone('Europe/Berlin').startOf('day');
      const event = overdueEvent({
        segment,
        invoice: { amountDue: '1250.00', dueDate: today.minus({ days: 20 }).toISODate(), ...(paymentAllocation ? { paymentAllocation } : {}) },
      });
      const caseId = await http.open(event);
      const payment = paymentEvent(event.data.invoice.externalId, '500.00');
      payment.data.paidAt = today.minus({ days: 10 }).plus({ hours: 12 }).toUTC().toISO()!;
      await http.post(payment).expect(202);

      const detail = await http.detail(caseId);
      expect(detail.account).toMatchObject({
        principalOutstanding: expected.principalOutstanding,
        lateFee: { accrued: expected.accrued, outstanding: expected.outstanding },
        totalDue: expected.totalDue,
      });
      expect(detail.account.lateFee.periods.map((p: { days: number; base: string; fee: string }) => [p.days, p.base, p.fee])).toEqual([
        [10, '1250.00', '5.00'],
        [10, expected.principalOutstanding, expected.second.slice(-4)],
      ]);
      expect(detail.totalDue).toBe(expected.totalDue);
      // What the payment paid, in the order set; what was owed right after it (the fee still accrues).
      const applied = (await http.touches(caseId)).find((t) => t.kind === 'payment.applied')!;
      expect(applied.data).toMatchObject({
        amount: '500.00',
        toCosts: '0.00',
        ...expected.applied,
        allocationOrder: paymentAllocation ?? ['costs', 'interest', 'principal'],
      });

      const issued = await sut.http
        .post(`/v1/cases/${caseId}/letters`)
        .set(bearer('operator'))
        .send({ type: 'payment-demand', deliver: ['email'] })
        .expect(201);
      const text = squash(await pdfText(await http.pdf(issued.body.letters[0].id)));
      expect(text).toContain(squash('1,250.00 × 10 days × 0.04 % = 5.00'));
      expect(text).toContain(squash(expected.second));
      expect(text).toContain(squash(`€${expected.totalDue}`));
      expect(text).toContain(squash('We have received €500.00'));

      const started = await sut.http
        .post('/v1/batches')
        .set(bearer('finance'))
        .set('Idempotency-Key', `letters-${randomUUID()}`)
        .send({ kind: 'letters', letterType: 'payment-demand', asOf: today.toISODate(), filter: { segment }, dryRun: true })
        .expect(202);
      const item = await waitFor('the batch item', async () => {
        const items = (await sut.http.get(`/v1/batches/${started.body.id}/items?limit=1000`).set(bearer('finance')).expect(200)).body.items;
        return items.find((i: { caseId: string; status: string }) => i.caseId === caseId && i.status !== 'pending');
      });
      expect(item.amounts).toMatchObject({ lateFee: { accrued: expected.accrued, outstanding: expected.outstanding }, totalDue: expected.totalDue });

      // A dry run of terminations refuses as the real run would: the demand just sent has not had its cure period.
      const terminations = await sut.http
        .post('/v1/batches')
        .set(bearer('finance'))
        .set('Idempotency-Key', `terminations-${randomUUID()}`)
        .send({ kind: 'terminations', asOf: today.toISODate(), filter: { segment }, dryRun: true })
        .expect(202);
      const refused = await waitFor('the termination batch item', async () => {
        const items = (await sut.http.get(`/v1/batches/${terminations.body.id}/items?limit=1000`).set(bearer('finance')).expect(200)).body.items;
        return items.find((i: { caseId: string; status: string }) => i.caseId === caseId && i.status !== 'pending');
      });
      expect(refused).toMatchObject({ status: 'skipped', outcome: 'would not send', error: expect.stringMatching(/cure period after payment demand/) });
    });
  });

  it('a zh-CN letter states the total in capitals (大写), says how to pay and how to dispute, and verifies with pdfsig; one byte changed fails', async () => {
    const http = api(sut);
    const event = overdueEvent({
      segment: 'quiet',
      invoice: { currency: 'CNY', amountDue: '1258.50' },
      debtor: { locale: 'zh-CN', name: '张伟', address: { city: '北京市', district: '朝阳区', line1: '建国路88号', postalCode: '100022', country: 'CN' } },
    });
    const caseId = await http.open(event);
    const issued = await sut.http
      .post(`/v1/cases/${caseId}/letters`)
      .set(bearer('operator'))
      .send({ type: 'payment-demand', deliver: ['email'] })
      .expect(201);
    const pdf = await http.pdf(issued.body.letters[0].id);
    const text = squash(await pdfText(pdf));
    // The table test in src/domain/formats.spec.ts has the same line.
    expect(text).toContain('（大写：人民币壹仟贰佰伍拾捌元伍角）');
    for (const fact of ROUTE_FACTS) expect(text).toContain(squash(fact));
    expect(text).toContain('收款人AcmeLendingLtd');

    const verdict = await pdfsig(pdf);
    expect(verdict).toContain('Signature Validation: Signature is Valid.');
    expect(verdict).toContain('Signature Type: ETSI.CAdES.detached');
    expect(verdict).toContain('Signer Certificate Common Name: Acme Lending Ltd');
    // One byte of the signed document changed (a letter of its producer's name in the Info dictionary).
    const tampered = Buffer.from(pdf);
    const at = tampered.indexOf('PDFKit');
    expect(at).toBeGreaterThan(0);
    tampered[at] = 'Q'.charCodeAt(0);
    expect(await pdfsig(tampered)).toContain('Signature Validation: Digest Mismatch.');

    const mail: ReceivedMail = await waitFor('the letter email', () => smtp.to(event.data.debtor.email)[0]);
    for (const fact of ROUTE_FACTS) expect(mail.text).toContain(fact);
  });

  it('a future signedAt is a 400 naming the field, and the limitation date does not move', async () => {
    const http = api(sut);
    const event = overdueEvent({ segment: 'quiet' });
    const caseId = await http.open(event);
    const before = (await http.detail(caseId)).limitation.date;
    const future = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString();
    const response = await http
      .post({
        id: `ack-${randomUUID()}`,
        type: 'acknowledgment.signed',
        occurredAt: new Date().toISOString(),
        data: { invoiceExternalId: event.data.invoice.externalId, signedAt: future },
      })
      .expect(400);
    expect(JSON.stringify(response.body)).toContain('data.signedAt');
    expect((await http.detail(caseId)).limitation.date).toBe(before);
  });

  it('a German case: a delivered demand does not move the limitation date (BGB § 212); an acknowledgment does', async () => {
    const http = api(sut);
    // Due in an earlier year, so that a restart from today ends later than the year-end period.
    const dueDate = `${DateTime.now().year - 1}-06-15`;
    const event = overdueEvent({ segment: 'quiet', invoice: { dueDate, jurisdiction: 'DE' } });
    const caseId = await http.open(event);
    const opened = (await http.detail(caseId)).limitation.date;
    // § 199: three years from the end of the year the claim arose in.
    expect(opened).toBe(`${Number(dueDate.slice(0, 4)) + 3}-12-31`);

    await sut.http
      .post(`/v1/cases/${caseId}/letters`)
      .set(bearer('operator'))
      .send({ type: 'payment-demand', deliver: ['email'] })
      .expect(201);
    await lettersSent(sut, caseId, 1);
    const afterDemand = await http.detail(caseId);
    expect(afterDemand.legal.demands.delivered).toBe(1);
    expect(afterDemand.limitation.date).toBe(opened);
    expect(afterDemand.legal.limitation.restarts).toEqual([]);

    const signedAt = new Date().toISOString();
    await http
      .post({
        id: `ack-${randomUUID()}`,
        type: 'acknowledgment.signed',
        occurredAt: signedAt,
        data: { invoiceExternalId: event.data.invoice.externalId, signedAt },
      })
      .expect(202);
    const afterAck = await http.detail(caseId);
    const threeYearsOn = DateTime.fromISO(afterAck.legal.limitation.restarts[0].on).plus({ years: 3 }).toISODate();
    expect(afterAck.limitation.date).toBe(threeYearsOn);
    expect(afterAck.legal.limitation.restarts).toEqual([
      expect.objectContaining({ cause: 'acknowledgment.signed', ground: 'acknowledgment', previousDate: opened, limitationDate: threeYearsOn }),
    ]);
  });

  it('a general guarantee near its end opens a legal work item; a lapsed guarantee’s notice is skipped with the reason', async () => {
    const http = api(sut);
    // Ends in 10 days (within GUARANTEE_WARN_DAYS): P6M from a due date 6 months less 10 days ago.
    const nearEnd = overdueEvent({
      segment: 'quiet',
      invoice: { dueDate: DateTime.now().minus({ months: 6 }).plus({ days: 10 }).toISODate() },
      guarantors: [{ externalId: `G-${randomUUID().slice(0, 8)}`, name: 'Grace Guarantor', email: `grace-${randomUUID().slice(0, 8)}@example.test` }],
    });
    const nearCase = await http.open(nearEnd);
    await sut.app.get(LegalClockCheck).run();
    const items = (await sut.http.get(`/v1/work-items?caseId=${nearCase}`).set(bearer('operator')).expect(200)).body.items;
    expect(items).toEqual([expect.objectContaining({ kind: 'legal', reason: expect.stringMatching(/general guarantee .* only a suit or arbitration/) })]);

    // The guarantee ended a month ago: the guarantor-letter policy's notice is skipped.
    const lateEmail = `late-${randomUUID().slice(0, 8)}@example.test`;
    const lapsed = overdueEvent({
      segment: 'guarantor-letter',
      invoice: { dueDate: DateTime.now().minus({ months: 7 }).toISODate() },
      guarantors: [{ externalId: `G-${randomUUID().slice(0, 8)}`, name: 'Late Guarantor', email: lateEmail }],
    });
    const lapsedCase = await http.open(lapsed);
    const skipped = await waitFor('the guarantor notice to be skipped', async () => (await http.touches(lapsedCase)).find((t) => t.kind === 'step.skipped'));
    expect(skipped.data.reason).toMatch(/every guarantee has lapsed/);
    expect(smtp.to(lateEmail)).toEqual([]);
  });
});
