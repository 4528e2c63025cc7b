import { createHash, randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { PDFParse } from 'pdf-parse';
import { LegalClockCheck } from '../../src/letters/legal-clock-check.service';
import { FixedClock } from '../support/fixed-clock';
import { type ReceivedMail, SmtpSink } from '../support/smtp-sink';
import { bearer, failedJob, letterPdf, overdueEvent, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const pdfText = async (pdf: Buffer) => (await new PDFParse({ data: new Uint8Array(pdf) }).getText()).text;
/** PDF text extraction may break lines and drop spaces between runs; compare without whitespace. */
const squash = (text: string) => text.replace(/\s+/g, '');

interface Touch {
  kind: string;
  actor: string;
  channel: string | null;
  data: Record<string, unknown>;
}

describe('letters: PDF by email and post, tracking, fees and legal clocks', () => {
  const smtp = new SmtpSink();
  let sut: TestApp;

  beforeAll(async () => {
    const smtpUrl = await smtp.start();
    sut = await startTestApp('letters', 6, { SMTP_URL: smtpUrl, CREDITOR_NAME: 'Acme Lending Ltd', CREDITOR_CONTACT_PHONE: '+44 20 7946 0000' });
  });

  afterAll(async () => {
    await sut?.close();
    await smtp.stop();
  });

  const post = (body: object) => sut.http.post('/v1/events').set(bearer('ingest')).send(body);
  const caseDetail = async (caseId: string) => (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('finance')).expect(200)).body;
  const touches = async (caseId: string) =>
    (await sut.http.get(`/v1/cases/${caseId}/touches?limit=500`).set(bearer('auditor')).expect(200)).body.items as Touch[];
  const letter = async (id: string) => (await sut.http.get(`/v1/letters/${id}`).set(bearer('operator')).expect(200)).body;
  const pdfOf = async (id: string) => {
    const { bytes, response } = await letterPdf(sut, id);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/pdf');
    return { bytes, etag: response.headers.etag };
  };

  /** An invoice 17 days overdue (its due moment 17 days ago), on the `letters` policy: fee, then a payment demand. */
  function overdueSeventeenDays(debtor: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
    return overdueEvent({
      segment: 'letters',
      invoice: { amountDue: '1250.00', dueDate: DateTime.utc().minus({ days: 17 }).toISO(), contractDate: '2025-03-01' },
      debtor: { address: { line1: '1 High Street', city: 'London', postcode: 'EC1A 1BB', country: 'GB' }, ...debtor },
      ...extra,
    });
  }

  async function open(event: ReturnType<typeof overdueEvent>) {
    const response = await post(event).expect(202);
    expect(response.body.results[0]).toMatchObject({ status: 'accepted' });
    return response.body.results[0].caseId as string;
  }

  async function demandSent(caseId: string, email: string): Promise<{ mail: ReceivedMail; letterId: string; trail: Touch[] }> {
    const mail = await waitFor('the payment demand at the SMTP server', () => smtp.to(email)[0]);
    const trail = await waitFor('letter.sent by email', async () => {
      const all = await touches(caseId);
      return all.some((t) => t.kind === 'letter.sent' && t.channel === 'email') ? all : null;
    });
    const sent = trail.find((t) => t.kind === 'letter.sent' && t.channel === 'email')!;
    return { mail, letterId: sent.data.letterId as string, trail };
  }

  it('a payment-demand step emails the PDF; its text shows amount, references, fee accrued and deadline; hashes agree', async () => {
    const event = overdueSeventeenDays();
    const caseId = await open(event);
    const { mail, letterId, trail } = await demandSent(caseId, event.data.debtor.email);

    expect(mail.attachments).toHaveLength(1);
    const attachment = mail.attachments[0]!;
    expect(attachment.contentType).toBe('application/pdf');
    const stored = await letter(letterId);
    expect(attachment.filename).toBe(`${stored.number}.pdf`);

    // The fee: 1,250.00 × days × 0.04 %, the days counted on the debtor's calendar.
    const days = stored.fields.fee.days as number;
    expect(days).toBe(
      Math.round(
        DateTime.now()
          .setZone('Europe/Berlin')
          .startOf('day')
          .diff(DateTime.utc().minus({ days: 17 }).setZone('Europe/Berlin').startOf('day'), 'days').days,
      ) + 1,
    );
    expect(stored.fields.fee).toMatchObject({
      ratePerDay: '0.0004',
      base: '1250.00',
      accrued: (days * 0.5).toFixed(2),
      perDay: '0.50',
      cap: '250.00',
      capped: false,
    });
    expect(stored.fields.deadline).toBe(DateTime.fromISO(stored.fields.date).plus({ days: 7 }).toISODate());

    const text = squash(await pdfText(attachment.content));
    for (const expected of [
      '1,250.00',
      event.data.invoice.externalId,
      event.data.invoice.contractRef,
      (days * 0.5).toFixed(2),
      stored.number,
      'Acme Lending Ltd',
      'Ana Debtor',
    ]) {
      expect(text).toContain(squash(String(expected)));
    }
    expect(text).toContain(squash(DateTime.fromISO(stored.fields.deadline).setLocale('en-GB').toLocaleString(DateTime.DATE_FULL)));

    // One hash: stored, served, attached, and named by the letter.sent touches.
    const served = await pdfOf(letterId);
    expect(sha256(served.bytes)).toBe(stored.sha256);
    expect(sha256(attachment.content)).toBe(stored.sha256);
    expect(served.etag).toBe(`"${stored.sha256}"`);
    const sentTouches = trail.filter((t) => t.kind === 'letter.sent');
    expect(sentTouches.map((t) => t.channel).sort()).toEqual(['email', 'post']);
    for (const touch of sentTouches) expect(touch.data).toMatchObject({ letterId, sha256: stored.sha256, number: stored.number, type: 'payment-demand' });
    expect(sentTouches.find((t) => t.channel === 'email')!.data.messageId).toBe(mail.messageId);

    // The fee step before the letter assessed the fee on the case's ledger.
    const detail = await caseDetail(caseId);
    const assessed = trail.find((t) => t.kind === 'fee.assessed')!;
    expect(assessed.data).toMatchObject({ ratePerDay: '0.0004', base: '1250.00', days, accrued: (days * 0.5).toFixed(2), amount: (days * 0.5).toFixed(2) });
    expect(detail).toMatchObject({ principal: '1250.00', balance: '1250.00', fees: (days * 0.5).toFixed(2), totalDue: (1250 + days * 0.5).toFixed(2) });
    expect(detail.feeAssessments).toHaveLength(1);
    expect(detail.letters).toEqual([
      expect.objectContaining({ id: letterId, type: 'payment-demand', emailStatus: 'sent', postStatus: 'queued', sha256: stored.sha256 }),
    ]);
    expect(detail.schedule.slice(0, 2).map((s: { status: string }) => s.status)).toEqual(['done', 'done']);
  });

  it('a refused letter email is retried with the same letter and bytes: one letter, one email, one letter.sent', async () => {
    smtp.refuseNext = 1;
    const refusalsBefore = smtp.refusals;
    const event = overdueSeventeenDays();
    const caseId = await open(event);
    const { mail, letterId, trail } = await demandSent(caseId, event.data.debtor.email);
    expect(smtp.refusals).toBe(refusalsBefore + 1);
    const stored = await letter(letterId);
    expect(sha256(mail.attachments[0]!.content)).toBe(stored.sha256);
    expect(smtp.to(event.data.debtor.email)).toHaveLength(1);
    expect((await caseDetail(caseId)).letters).toHaveLength(1);
    expect(trail.filter((t) => t.kind === 'letter.sent' && t.channel === 'email')).toHaveLength(1);
    expect(stored.deliveries.email).toMatchObject({ status: 'sent', messageId: mail.messageId });
  });

  it('writes to a zh-CN debtor in Chinese, with the Chinese name', async () => {
    const event = overdueSeventeenDays(
      { name: '张伟', locale: 'zh-CN', timezone: 'Asia/Shanghai', address: { line1: '人民路 1 号', city: '上海', country: 'CN' } },
      {},
    );
    event.data.invoice.currency = 'CNY';
    const caseId = await open(event);
    const { mail, letterId } = await demandSent(caseId, event.data.debtor.email);
    const text = squash(await pdfText(mail.attachments[0]!.content));
    expect(text).toContain('张伟');
    expect(text).toContain('催款');
    expect(text).toContain(event.data.invoice.externalId);
    expect((await letter(letterId)).locale).toBe('zh-CN');
    expect(mail.subject).toContain('催款');
  });

  it('posts a letter queued → posted → delivered through tracking, each a touch; under English law the delivery leaves the limitation clock alone', async () => {
    const event = overdueSeventeenDays();
    const caseId = await open(event);
    const { letterId } = await demandSent(caseId, event.data.debtor.email);
    // The debtor is in England: six years for a contract debt (Limitation Act 1980 s.5).
    const before = (await caseDetail(caseId)).limitation.date as string;
    expect(before).toBe(DateTime.utc().minus({ days: 17 }).setZone('Europe/Berlin').plus({ years: 6 }).toISODate());

    const queue = await sut.http.get('/v1/letters?delivery=post&status=queued&limit=500').set(bearer('operator')).expect(200);
    expect(queue.body.items.map((l: { id: string }) => l.id)).toContain(letterId);
    const queued = queue.body.items.find((l: { id: string }) => l.id === letterId);
    expect(queued.recipient.address).toMatchObject({ postcode: 'EC1A 1BB' });

    const track = (body: object) => sut.http.post(`/v1/letters/${letterId}/tracking`).set(bearer('operator')).send(body);
    // Delivered before posted is out of order; a report dated before the letter existed is refused.
    await track({ carrier: 'Royal Mail', trackingNumber: 'RM123456789GB', status: 'delivered' }).expect(409);
    const backdated = await track({ carrier: 'Royal Mail', trackingNumber: 'RM123456789GB', status: 'posted', at: '2020-01-01T00:00:00Z' }).expect(400);
    expect(backdated.body.details).toEqual([expect.objectContaining({ field: 'body.at', reason: expect.stringContaining('when the letter was issued') })]);
    const posted = await track({ carrier: 'Royal Mail', trackingNumber: 'RM123456789GB', status: 'posted' }).expect(200);
    expect(posted.body.deliveries.post).toMatchObject({ status: 'posted', carrier: 'Royal Mail', trackingNumber: 'RM123456789GB' });
    // The same report again changes nothing; another tracking number is refused.
    await track({ carrier: 'Royal Mail', trackingNumber: 'RM123456789GB', status: 'posted' }).expect(200);
    const other = await track({ carrier: 'Royal Mail', trackingNumber: 'RM000', status: 'delivered' }).expect(409);
    expect(other.body.message).toContain('RM123456789GB');
    const delivered = await track({ carrier: 'Royal Mail', trackingNumber: 'RM123456789GB', status: 'delivered' }).expect(200);
    expect(delivered.body.deliveries.post.status).toBe('delivered');

    const trail = await touches(caseId);
    const kinds = trail.map((t) => t.kind);
    expect(kinds.filter((k) => k === 'letter.posted')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'letter.delivered')).toHaveLength(1);
    expect(kinds.indexOf('letter.posted')).toBeLessThan(kinds.indexOf('letter.delivered'));
    const deliveredTouch = trail.find((t) => t.kind === 'letter.delivered')!;
    expect(deliveredTouch).toMatchObject({ actor: 'operator-key', channel: 'post', data: { letterId, trackingNumber: 'RM123456789GB' } });
    // Only a written acknowledgment or a part payment restarts it there (s.29), not a demand.
    expect(kinds).not.toContain('limitation.restarted');
    const detail = await caseDetail(caseId);
    expect(detail.limitation.date).toBe(before);
    expect(detail.legal.limitation).toMatchObject({ jurisdiction: 'GB', restarts: [] });

    await sut.http
      .post(`/v1/letters/${randomUUID()}/tracking`)
      .set(bearer('operator'))
      .send({ carrier: 'x', trackingNumber: 'y', status: 'posted' })
      .expect(404);
    await sut.http.get(`/v1/letters/${randomUUID()}/pdf`).set(bearer('operator')).expect(404);
    const bad = await track({ carrier: '', status: 'lost' }).expect(400);
    expect(bad.body.message).toMatch(/body\.carrier.*body\.trackingNumber.*body\.status/s);
    await sut.http.post(`/v1/letters/${letterId}/tracking`).set(bearer('finance')).send({ carrier: 'x', trackingNumber: 'y', status: 'posted' }).expect(403);
  });

  it('an operator sends a guarantor notice: it goes to the guarantors only, and the case shows whether it came in time', async () => {
    const guarantor = {
      externalId: `G-${randomUUID().slice(0, 8)}`,
      name: 'Grace Guarantor',
      email: `grace-${randomUUID().slice(0, 8)}@example.test`,
      address: { line1: '2 Low Road', city: 'Leeds', country: 'GB' },
      guaranteeType: 'joint',
    };
    const event = overdueSeventeenDays({}, { guarantors: [guarantor], segment: 'quiet' });
    const caseId = await open(event);
    const sent = await sut.http
      .post(`/v1/cases/${caseId}/letters`)
      .set(bearer('operator'))
      .send({ type: 'guarantor-notice', deliver: ['email', 'post'] })
      .expect(201);
    expect(sent.body.letters).toEqual([
      expect.objectContaining({
        type: 'guarantor-notice',
        recipient: expect.objectContaining({ role: 'guarantor', name: 'Grace Guarantor' }),
        email: 'pending',
        post: 'queued',
      }),
    ]);
    const letterId = sent.body.letters[0].id as string;

    const mail = await waitFor('the guarantor notice', () => smtp.to(guarantor.email)[0]);
    expect(squash(await pdfText(mail.attachments[0]!.content))).toContain('GraceGuarantor');
    expect(smtp.to(event.data.debtor.email)).toHaveLength(0);

    // The email reaching the guarantor is the notice (a joint guarantee: art. 693(2) preserves the claim).
    const today = DateTime.now().setZone('Europe/Berlin').toISODate();
    let detail = await waitFor('the guarantor notified', async () => {
      const current = await caseDetail(caseId);
      return current.guarantors[0].notifiedOn ? current : null;
    });
    expect(detail.guarantors).toEqual([
      expect.objectContaining({
        externalId: guarantor.externalId,
        type: 'joint',
        guaranteeEndsOn: expect.any(String),
        notifiedOn: today,
        notifiedInTime: true,
        status: 'notified',
      }),
    ]);
    expect(detail.legal.guarantees).toEqual([expect.objectContaining({ type: 'joint', notifiedOn: today, status: 'claim-preserved' })]);
    const track = (status: string) =>
      sut.http.post(`/v1/letters/${letterId}/tracking`).set(bearer('operator')).send({ carrier: 'DHL', trackingNumber: 'JD0001', status });
    await track('posted').expect(200);
    await track('delivered').expect(200);
    detail = await caseDetail(caseId);
    expect(detail.guarantors[0]).toMatchObject({ notifiedOn: today, notifiedInTime: true, status: 'notified' });
    expect(detail.schedule.at(-1)).toMatchObject({ action: 'letter', letter: 'guarantor-notice', status: 'done' });
  });

  it('refuses a letter whose recipient name the fonts cannot draw, naming the character, and changes nothing', async () => {
    const event = overdueSeventeenDays({ name: '王𠀀', locale: 'zh-CN' }, { segment: 'quiet' });
    const caseId = await open(event);
    const before = await touches(caseId);
    const refused = await sut.http.post(`/v1/cases/${caseId}/letters`).set(bearer('operator')).send({ type: 'payment-demand' }).expect(422);
    expect(refused.body.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'recipient.name', reason: expect.stringContaining('U+20000') })]),
    );
    expect(await touches(caseId)).toHaveLength(before.length);
    expect((await caseDetail(caseId)).letters).toEqual([]);
    await sut.http.post(`/v1/cases/${caseId}/letters`).set(bearer('operator')).send({ type: 'final-warning' }).expect(400);
  });

  it('refuses a letter no recipient can get, naming the field at fault, and changes nothing', async () => {
    const caseId = await open(overdueSeventeenDays({}, { segment: 'quiet' }));
    const before = await touches(caseId);
    const noGuarantor = await sut.http.post(`/v1/cases/${caseId}/letters`).set(bearer('operator')).send({ type: 'guarantor-notice' }).expect(422);
    expect(noGuarantor.body.details).toEqual([{ field: 'body.type', reason: expect.stringMatching(/^no letter can be sent: .*guarantor/) }]);
    expect(noGuarantor.body.message).toMatch(/^body\.type: no letter can be sent/);
    expect(await touches(caseId)).toHaveLength(before.length);
  });

  it('a letter step for an undrawable name fails at once, visibly, without retries', async () => {
    const event = overdueSeventeenDays({ name: '𠀀 Debtor' });
    const caseId = await open(event);
    const trail = await waitFor('letter.failed', async () => {
      const all = await touches(caseId);
      return all.some((t) => t.kind === 'letter.failed') ? all : null;
    });
    const failed = trail.find((t) => t.kind === 'letter.failed')!;
    expect(failed.data.undrawable).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'recipient.name', codePoint: 'U+20000' })]));
    const step = (await caseDetail(caseId)).schedule[1];
    expect(step).toMatchObject({ action: 'letter', status: 'failed', outcome: 'run failed', attempts: 1 });
    const job = await failedJob(sut, step.id);
    expect(job.attemptsMade).toBe(1);
    expect(smtp.to(event.data.debtor.email)).toHaveLength(0);
  });

  it('a contract termination letter waits for the cure period after a delivered demand, then terminates the contract, citing the letters sent', async () => {
    const event = overdueSeventeenDays();
    const caseId = await open(event);
    const { letterId: demandId } = await demandSent(caseId, event.data.debtor.email);
    const terminate = () =>
      sut.http
        .post(`/v1/cases/${caseId}/letters`)
        .set(bearer('operator'))
        .send({ type: 'contract-termination', deliver: ['email', 'post'] });
    const early = await terminate().expect(409);
    expect(early.body.message).toMatch(/cure period after payment demand L-\d{4}-\d{6} \(delivered on \d{4}-\d{2}-\d{2}\) runs until/);
    // Ten days on (the default cure period), the termination may go.
    // Its step is due then too, so the clock stays there until the email is out.
    const clock = FixedClock.install(sut.app, DateTime.now().plus({ days: 10, hours: 1 }).toJSDate());
    let sent;
    let mail;
    try {
      sent = await terminate().expect(201);
      const number = sent.body.letters[0].number as string;
      // The termination it records does not stop its own step from emailing it.
      mail = await waitFor('the termination by email', () => smtp.to(event.data.debtor.email).find((m) => m.subject.includes(number)));
    } finally {
      clock.restore();
    }
    expect(mail.attachments).toHaveLength(1);
    const termination = await letter(sent.body.letters[0].id);
    expect(termination.fields.previousLetters).toEqual([expect.objectContaining({ number: (await letter(demandId)).number, type: 'payment-demand' })]);
    const detail = await caseDetail(caseId);
    expect(detail.contract).toMatchObject({ status: 'terminated', terminatedAt: expect.any(String) });
    const terminated = (await touches(caseId)).filter((t) => t.kind === 'contract.terminated');
    expect(terminated).toEqual([
      expect.objectContaining({ actor: 'operator-key', data: expect.objectContaining({ letterId: termination.id, number: termination.number }) }),
    ]);
  });

  it('a signed acknowledgment restarts the limitation clock; limitationBefore finds cases at risk', async () => {
    const event = overdueEvent({ invoice: { dueDate: '2024-01-15', jurisdiction: 'CN' }, segment: 'quiet' });
    const caseId = await open(event);
    expect((await caseDetail(caseId)).limitation).toEqual({ date: '2027-01-15', jurisdiction: 'CN' });
    const atRisk = await sut.http.get('/v1/cases?limitationBefore=2027-02-01&limit=500').set(bearer('finance')).expect(200);
    expect(atRisk.body.items.map((c: { id: string }) => c.id)).toContain(caseId);

    const ack = {
      id: `ack-${randomUUID().slice(0, 8)}`,
      type: 'acknowledgment.signed',
      occurredAt: new Date().toISOString(),
      data: { invoiceExternalId: event.data.invoice.externalId, signedAt: '2026-06-30T10:00:00+08:00' },
    };
    await post(ack).expect(202);
    expect((await caseDetail(caseId)).limitation.date).toBe('2029-06-30');
    expect((await touches(caseId)).find((t) => t.kind === 'limitation.restarted')!.data).toMatchObject({
      cause: 'acknowledgment.signed',
      eventId: ack.id,
      previousDate: '2027-01-15',
      limitationDate: '2029-06-30',
    });
    const later = await sut.http.get('/v1/cases?limitationBefore=2027-02-01&limit=500').set(bearer('finance')).expect(200);
    expect(later.body.items.map((c: { id: string }) => c.id)).not.toContain(caseId);
    await sut.http.get('/v1/cases?limitationBefore=soon').set(bearer('finance')).expect(400);
  });

  it('the daily check warns once of a limitation date and a guarantee near their end, and escalates the guarantee', async () => {
    const dueDate = DateTime.now().setZone('Europe/Berlin').minus({ years: 3 }).plus({ days: 30 }).toISODate()!;
    const guarantor = { externalId: 'G-1', name: 'Gus Guarantor', guaranteePeriod: 'P3Y' };
    const event = overdueEvent({ invoice: { dueDate }, guarantors: [guarantor], segment: 'quiet' });
    const caseId = await open(event);

    const check = sut.app.get(LegalClockCheck);
    expect(await check.run()).toBeGreaterThanOrEqual(2);
    const trail = await touches(caseId);
    const expiring = trail.find((t) => t.kind === 'limitation.expiring')!;
    expect(expiring.data).toMatchObject({ invoiceExternalId: event.data.invoice.externalId, daysLeft: 30 });
    expect(trail.find((t) => t.kind === 'guarantee.expiring')!.data).toMatchObject({ externalId: 'G-1', daysLeft: 30 });
    expect(trail.find((t) => t.kind === 'escalation.created')!.data).toMatchObject({
      to: 'legal',
      workItemId: expect.any(String),
      reason: expect.stringContaining('G-1'),
    });
    expect((await caseDetail(caseId)).guarantors[0].status).toBe('expiring');

    // Running again records nothing new.
    await check.run();
    expect(await touches(caseId)).toHaveLength(trail.length);
  });
});
