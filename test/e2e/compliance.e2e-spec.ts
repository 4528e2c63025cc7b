import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { Commitments } from '../../src/cases/commitments.service';
import { FixedClock } from '../support/fixed-clock';
import { SmsStub } from '../support/sms-stub';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, failedJob, invoiceEvent, overdueEvent, runStepAgain, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

interface Touch {
  kind: string;
  actor: string;
  channel: string | null;
  data: Record<string, unknown>;
}

/** A zone whose local hour is now within [from, to): the test does not depend on when it runs. */
function zoneWhereLocalHourIs(from: number, to: number): string {
  const zones = Intl.supportedValuesOf('timeZone');
  const zone = zones.find((candidate) => {
    const hour = DateTime.now().setZone(candidate).hour;
    // Keep two hours of margin from the window's edges, so the zone still qualifies when the step runs.
    return hour >= from && hour < to;
  });
  if (!zone) throw new Error(`no time zone has a local hour in [${from}, ${to}) now`);
  return zone;
}

describe('the contact gate and the case lifecycle, with the real service', () => {
  const smtp = new SmtpSink();
  const sms = new SmsStub();
  let sut: TestApp;

  beforeAll(async () => {
    const [smtpUrl, smsUrl] = await Promise.all([smtp.start(), sms.start()]);
    sut = await startTestApp('compliance', 8, { SMTP_URL: smtpUrl, SMS_URL: smsUrl, COMPLIANCE_FILE: 'test/fixtures/compliance-default-hours.yaml' });
  });

  afterAll(async () => {
    await sut?.close();
    await Promise.all([smtp.stop(), sms.stop()]);
  });

  const post = (body: object) => sut.http.post('/v1/events').set(bearer('ingest')).send(body);
  const caseDetail = async (caseId: string) => (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('operator')).expect(200)).body;
  const touches = async (caseId: string) =>
    (await sut.http.get(`/v1/cases/${caseId}/touches?limit=500`).set(bearer('auditor')).expect(200)).body.items as Touch[];
  const trailWith = (caseId: string, kind: string, count = 1) =>
    waitFor(`${count} × ${kind}`, async () => {
      const trail = await touches(caseId);
      return trail.filter((t) => t.kind === kind).length >= count ? trail : null;
    });

  async function open(event: ReturnType<typeof overdueEvent>): Promise<string> {
    const response = await post(event).expect(202);
    expect(response.body.results[0]).toMatchObject({ status: 'accepted' });
    return response.body.results[0].caseId;
  }

  it('a debtor whose local time is night gets nothing; the case shows step.deferred with the next 08:00 local', async () => {
    const zone = zoneWhereLocalHourIs(0, 6);
    const event = overdueEvent({ debtor: { timezone: zone }, segment: 'at-once' });
    const caseId = await open(event);
    const trail = await trailWith(caseId, 'step.deferred');
    const deferred = trail.find((t) => t.kind === 'step.deferred')!;
    const until = DateTime.fromISO(deferred.data.until as string).setZone(zone);
    expect(until.toFormat('HH:mm')).toBe('08:00');
    expect(until.toISODate()).toBe(DateTime.now().setZone(zone).toISODate());
    expect(deferred.data.reasons).toEqual(['quiet-hours']);
    expect(deferred.channel).toBe('email');
    const step = (await caseDetail(caseId)).schedule[0];
    expect(step).toMatchObject({ status: 'deferred', dueAt: until.toUTC().toISO() });
    expect(smtp.to(event.data.debtor.email)).toHaveLength(0);
    expect(trail.some((t) => t.kind === 'notice.sent')).toBe(false);
  });

  it('plans a future contact step that would fall at night for the morning instead', async () => {
    const zone = zoneWhereLocalHourIs(13, 17);
    const caseId = await open(overdueEvent({ debtor: { timezone: zone }, segment: 'night-step', invoice: { dueDate: new Date().toISOString() } }));
    const scheduled = (await touches(caseId)).find((t) => t.kind === 'step.scheduled')!;
    const planned = DateTime.fromISO(scheduled.data.dueAt as string).setZone(zone);
    const asOffset = DateTime.fromISO(scheduled.data.plannedFrom as string).setZone(zone);
    expect(asOffset.hour).toBeLessThan(8);
    expect(planned.toFormat('HH:mm')).toBe('08:00');
    expect(planned.toISODate()).toBe(asOffset.toISODate());
    expect(scheduled.data.note).toBe('moved into the contact window');
    expect((await caseDetail(caseId)).schedule[0]).toMatchObject({ status: 'pending', dueAt: planned.toUTC().toISO() });
  });

  it('a guarantor notice by email keeps to the contact hours too', async () => {
    const zone = zoneWhereLocalHourIs(0, 6);
    const guarantor = { externalId: `G-${randomUUID().slice(0, 8)}`, name: 'Gia Guarantor', email: `gia-${randomUUID().slice(0, 8)}@example.test` };
    const caseId = await open(overdueEvent({ debtor: { timezone: zone }, guarantors: [guarantor], segment: 'guarantor-letter' }));
    const trail = await trailWith(caseId, 'step.deferred');
    expect(trail.find((t) => t.kind === 'step.deferred')!.data).toMatchObject({ reasons: ['quiet-hours'] });
    expect(
      DateTime.fromISO(trail.find((t) => t.kind === 'step.deferred')!.data.until as string)
        .setZone(zone)
        .toFormat('HH:mm'),
    ).toBe('08:00');
    expect(trail.some((t) => t.kind === 'letter.sent')).toBe(false);
    expect(smtp.to(guarantor.email)).toHaveLength(0);
  });

  it('a promise to pay for tomorrow means no notice today and a promise.recorded touch; paying it keeps it and lifts the hold', async () => {
    const zone = zoneWhereLocalHourIs(9, 19);
    const event = overdueEvent({ debtor: { timezone: zone } });
    const caseId = await open(event);
    const tomorrow = DateTime.now().setZone(zone).plus({ days: 1 }).toISODate()!;
    const promise = {
      id: `ptp-${randomUUID().slice(0, 8)}`,
      type: 'promise.made',
      occurredAt: new Date().toISOString(),
      data: { invoiceExternalId: event.data.invoice.externalId, amount: '500.00', dueDate: tomorrow },
    };
    await post(promise).expect(202);

    const detail = await caseDetail(caseId);
    expect(detail.status).toBe('on_hold');
    expect(detail.holds).toEqual([expect.objectContaining({ kind: 'promise', releasedAt: null })]);
    const trail = await touches(caseId);
    expect(trail.find((t) => t.kind === 'promise.recorded')!.data).toMatchObject({ amount: '500.00', dueDate: tomorrow, source: `event ${promise.id}` });
    // The first notice (due in 2 s) does not go out while the promise holds.
    const first = detail.schedule[0];
    expect(await runStepAgain(sut.queue, first.id)).toBe('held');
    expect(smtp.to(event.data.debtor.email)).toHaveLength(0);

    // Paying the promised amount keeps the promise and lifts the hold.
    await post({
      id: `pay-${randomUUID().slice(0, 8)}`,
      type: 'payment.received',
      occurredAt: new Date().toISOString(),
      data: {
        invoiceExternalId: event.data.invoice.externalId,
        paymentId: `P-${randomUUID().slice(0, 8)}`,
        amount: '500.00',
        currency: 'EUR',
        paidAt: new Date().toISOString(),
      },
    }).expect(202);
    const after = await touches(caseId);
    expect(after.map((t) => t.kind)).toEqual(expect.arrayContaining(['promise.kept', 'hold.released']));
    expect((await caseDetail(caseId)).status).toBe('active');
  });

  it('a broken promise is recorded and the ladder resumes', async () => {
    const event = overdueEvent({ segment: 'quiet' });
    const caseId = await open(event);
    const today = DateTime.now().setZone('Europe/Berlin').toISODate()!;
    await sut.http.post(`/v1/cases/${caseId}/promises`).set(bearer('operator')).send({ amount: '100.00', dueDate: today }).expect(201);
    expect((await caseDetail(caseId)).status).toBe('on_hold');
    // Run the periodic check as if the promised day and its grace had passed.
    const commitments = sut.app.get(Commitments);
    const clock = FixedClock.install(sut.app, DateTime.now().plus({ days: 4 }).toJSDate());
    let detail;
    try {
      expect(await commitments.checkDue()).toBeGreaterThanOrEqual(1);
      // The charge is dated that day: the account shows it from then on.
      detail = await caseDetail(caseId);
    } finally {
      clock.restore();
    }
    const trail = await touches(caseId);
    expect(trail.find((t) => t.kind === 'promise.broken')!.data).toMatchObject({ promised: '100.00', paid: '0.00', dueDate: today });
    // The quiet policy charges 15.00 for a broken promise and hands the case to a collector.
    expect(trail.find((t) => t.kind === 'fee.assessed')!.data).toMatchObject({ kind: 'broken-promise', amount: '15.00', fees: '15.00' });
    expect(trail.find((t) => t.kind === 'escalation.created')!.data).toMatchObject({ to: 'collector' });
    expect(detail).toMatchObject({ status: 'active', fees: '15.00', totalDue: '1265.00' });
  });

  it('debtor.updated with ceaseContact stops every notice; the case records the hold', async () => {
    const zone = zoneWhereLocalHourIs(9, 19);
    const event = overdueEvent({ debtor: { timezone: zone } });
    const caseId = await open(event);
    const update = {
      id: `deb-${randomUUID().slice(0, 8)}`,
      type: 'debtor.updated',
      occurredAt: new Date().toISOString(),
      data: { debtor: { externalId: event.data.debtor.externalId, ceaseContact: true } },
    };
    await post(update).expect(202);
    const trail = await trailWith(caseId, 'step.skipped');
    expect(trail.find((t) => t.kind === 'hold.placed')!.data).toMatchObject({ kind: 'cease-contact', effect: 'no-contact' });
    expect(trail.find((t) => t.kind === 'debtor.updated')!.data).toMatchObject({ eventId: update.id, fields: ['ceaseContact'] });
    expect(trail.find((t) => t.kind === 'step.skipped')!.data).toMatchObject({ reason: 'debtor asked to cease contact' });
    expect(smtp.to(event.data.debtor.email)).toHaveLength(0);
  });

  it('the unsubscribe link in every email sets cease-contact (GET asks, POST does it)', async () => {
    const zone = zoneWhereLocalHourIs(9, 19);
    const event = overdueEvent({ debtor: { timezone: zone }, segment: 'at-once' });
    const caseId = await open(event);
    const mail = await waitFor('the notice', () => smtp.to(event.data.debtor.email)[0]);
    const link = /https?:\/\/\S+\/v1\/unsubscribe\/[\w-]+/.exec(mail.text)![0];
    const path = new URL(link).pathname;
    const page = await sut.http.get(path).expect(200).expect('Content-Type', 'text/html; charset=utf-8');
    expect(page.text).toContain('<form method="post">');
    expect((await caseDetail(caseId)).holds).toEqual([]);
    await sut.http.post(path).type('form').send('List-Unsubscribe=One-Click').expect(200).expect('Content-Type', 'text/html; charset=utf-8');
    expect((await caseDetail(caseId)).holds).toEqual([expect.objectContaining({ kind: 'cease-contact', placedBy: 'debtor (unsubscribe link)' })]);
    await sut.http.post('/v1/unsubscribe/not-a-token').expect(404);
  });

  it('a fourth SMS in a day is deferred to when the first leaves the 24-hour window; a retried SMS job sends nothing twice', async () => {
    const zone = zoneWhereLocalHourIs(9, 19);
    const phone = `+4915${Math.floor(Math.random() * 1e9)}`;
    sms.loseNextAnswers = 1;
    const event = overdueEvent({ debtor: { timezone: zone, phone }, segment: 'sms-burst' });
    const caseId = await open(event);
    const trail = await trailWith(caseId, 'step.deferred');
    await trailWith(caseId, 'notice.sent', 3);
    const sent = (await touches(caseId)).filter((t) => t.kind === 'notice.sent');
    expect(sent.map((t) => t.channel)).toEqual(['sms', 'sms', 'sms']);
    expect(sms.to(phone)).toHaveLength(3);

    const deferred = trail.find((t) => t.kind === 'step.deferred')!;
    expect(deferred.data.reasons).toEqual(['cap']);
    const firstSent = sms.to(phone)[0]!.receivedAt.getTime();
    const until = new Date(deferred.data.until as string).getTime();
    // The first SMS leaves the window 24 h after it was sent (or the window opens later that day).
    expect(until).toBeGreaterThanOrEqual(firstSent + 24 * 3600_000 - 5_000);
    expect((await caseDetail(caseId)).schedule[3]).toMatchObject({ status: 'deferred' });

    // The first answer was lost: the retry carried the same reference and the provider kept one message.
    expect(sms.duplicates).toHaveLength(1);
    expect(sms.duplicates[0]!.reference).toBe(sms.to(phone)[0]!.reference);
    expect(sms.requests.every((request) => request.headers['idempotency-key'] === (request.body as { reference: string }).reference)).toBe(true);
    // A duplicate job for a sent SMS step sends nothing.
    const firstStep = (await caseDetail(caseId)).schedule[0];
    expect(await runStepAgain(sut.queue, firstStep.id)).toBe('already-done');
    expect(sms.to(phone)).toHaveLength(3);

    // The provider's delivery receipt lands on the dispatch and the trail, once.
    const receipt = { reference: sms.to(phone)[0]!.reference, status: 'delivered', providerMessageId: sms.to(phone)[0]!.id };
    await sut.http.post('/v1/sms/receipts').set(bearer('ingest')).send(receipt).expect(200);
    await sut.http.post('/v1/sms/receipts').set(bearer('ingest')).send(receipt).expect(200);
    expect((await touches(caseId)).filter((t) => t.kind === 'notice.delivered')).toHaveLength(1);
  });

  it("a debtor's notices on several cases, due at the same moment, keep to the daily email cap together", async () => {
    const zone = zoneWhereLocalHourIs(9, 19);
    const debtor = { externalId: `DEB-${randomUUID()}`, email: `capped-${randomUUID().slice(0, 8)}@example.test`, timezone: zone };
    // One request, so that the three first steps fall due together and their claims meet.
    const events = [1, 2, 3].map(() => overdueEvent({ debtor, segment: 'at-once' }));
    const response = await post({ events }).expect(202);
    const caseIds = (response.body.results as { caseId: string }[]).map((result) => result.caseId);
    const settled = await waitFor('every first step sent or deferred', async () => {
      const firsts = await Promise.all(caseIds.map(async (caseId) => (await caseDetail(caseId)).schedule[0] as { status: string }));
      return firsts.every((step) => step.status === 'done' || step.status === 'deferred') ? firsts : null;
    });

    expect(settled.map((step) => step.status).sort()).toEqual(['deferred', 'deferred', 'done']);
    expect(smtp.to(debtor.email)).toHaveLength(1);
    for (const caseId of caseIds) {
      const trail = await touches(caseId);
      const deferred = trail.filter((t) => t.kind === 'step.deferred');
      expect(deferred.map((t) => t.data.reasons)).toEqual(trail.some((t) => t.kind === 'notice.sent') ? [] : [['cap']]);
    }
  });

  it("a debtor's notice and emailed letter, due at the same moment, keep to the daily email cap together", async () => {
    const zone = zoneWhereLocalHourIs(9, 19);
    const debtor = { externalId: `DEB-${randomUUID()}`, email: `capped-${randomUUID().slice(0, 8)}@example.test`, timezone: zone };
    // One request, so that both first steps fall due together and their claims meet.
    const events = ['at-once', 'letter-at-once'].map((segment) => overdueEvent({ debtor, segment }));
    const response = await post({ events }).expect(202);
    const caseIds = (response.body.results as { caseId: string }[]).map((result) => result.caseId);
    const settled = await waitFor('both first steps sent or deferred', async () => {
      const firsts = await Promise.all(caseIds.map(async (caseId) => (await caseDetail(caseId)).schedule[0] as { status: string }));
      return firsts.every((step) => step.status === 'done' || step.status === 'deferred') ? firsts : null;
    });

    expect(settled.map((step) => step.status).sort()).toEqual(['deferred', 'done']);
    expect(smtp.to(debtor.email)).toHaveLength(1);
  });

  it('an SMS the provider refuses for good (400) fails the step at once, recorded, without retries', async () => {
    const zone = zoneWhereLocalHourIs(9, 19);
    const phone = `+4916${Math.floor(Math.random() * 1e9)}`;
    sms.fail(1, 400);
    const caseId = await open(overdueEvent({ debtor: { timezone: zone, phone }, segment: 'sms-once' }));
    const trail = await trailWith(caseId, 'notice.failed');
    expect(trail.find((t) => t.kind === 'notice.failed')).toMatchObject({
      channel: 'sms',
      data: expect.objectContaining({ error: expect.stringContaining('400') }),
    });
    const step = (await caseDetail(caseId)).schedule[0];
    expect(step).toMatchObject({ status: 'failed' });
    const job = await failedJob(sut, step.id);
    expect(job.attemptsMade).toBe(1);
    expect(sms.to(phone)).toHaveLength(0);
  });

  it("derives the segment from the debtor's history and flags, and chooses the policy by it", async () => {
    const first = overdueEvent();
    delete (first.data as { segment?: string }).segment;
    const firstId = await open(first);
    const debtor = first.data.debtor;
    const second = overdueEvent({ debtor });
    const secondId = await open(second);
    await post({
      id: `deb-${randomUUID().slice(0, 8)}`,
      type: 'debtor.updated',
      occurredAt: new Date().toISOString(),
      data: { debtor: { externalId: debtor.externalId, wilful: true } },
    }).expect(202);
    const thirdId = await open(overdueEvent({ debtor }));
    expect((await caseDetail(firstId)).segment).toBe('first-time');
    expect((await caseDetail(secondId)).segment).toBe('repeat');
    expect(await caseDetail(thirdId)).toMatchObject({ segment: 'wilful', policy: { key: 'wilful' } });
    const opened = (await touches(thirdId)).find((t) => t.kind === 'case.opened')!;
    expect(opened.data).toMatchObject({ segment: 'wilful', segmentSource: 'history', policy: 'wilful' });
  });

  it('the end of the ladder: a demand, a collector work item, the contract terminated once the demand reached the debtor, the balance written off', async () => {
    // A zone where it is daytime: the demand goes at once, and only its cure period holds the termination.
    const event = overdueEvent({ segment: 'end-of-ladder', debtor: { timezone: zoneWhereLocalHourIs(9, 15) } });
    const caseId = await open(event);
    // The termination waits for the demand's day to pay and its cure period, on the record.
    // (It may first wait for the demand to go out, when the letter takes longer than the rung's 2 s.)
    const curePeriod = await waitFor('the termination deferred for the cure period', async () =>
      (await touches(caseId)).find(
        (t) => t.kind === 'step.deferred' && t.data.index === 2 && /^the cure period after payment demand L-/.test(String((t.data.reasons as string[])[0])),
      ),
    );
    expect(curePeriod.data.reasons).toHaveLength(1);
    // Six days on, the termination runs, and the write-off follows it.
    const [, , terminate] = (await caseDetail(caseId)).schedule as { id: string }[];
    const clock = FixedClock.install(sut.app, DateTime.now().plus({ days: 6 }).toJSDate());
    let trail: Touch[];
    try {
      expect(await runStepAgain(sut.queue, terminate!.id)).toBe('terminated');
      trail = await trailWith(caseId, 'case.written_off');
    } finally {
      clock.restore();
    }
    const kinds = trail.map((t) => t.kind);
    expect(kinds.indexOf('escalation.created')).toBeLessThan(kinds.indexOf('contract.terminated'));
    expect(kinds.indexOf('contract.terminated')).toBeLessThan(kinds.indexOf('case.written_off'));
    expect(trail.find((t) => t.kind === 'case.written_off')!.data).toMatchObject({ balance: '1250.00', fees: '0.00', currency: 'EUR' });
    // The notice after the write-off is cancelled with the case.
    expect(trail.filter((t) => t.kind === 'step.cancelled')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ index: 4, reason: 'case written off' }) }),
    ]);
    const detail = await caseDetail(caseId);
    expect(detail).toMatchObject({ status: 'written_off', contract: { status: 'terminated' } });
    expect(detail.schedule.map((step: { status: string; outcome: string }) => [step.status, step.outcome])).toEqual([
      ['done', 'issued'],
      ['done', 'escalated'],
      ['done', 'terminated'],
      ['done', 'written off'],
      ['cancelled', 'case written off'],
    ]);
    const items = (await sut.http.get(`/v1/work-items?caseId=${caseId}&status=open`).set(bearer('operator')).expect(200)).body.items;
    expect(items).toEqual([expect.objectContaining({ kind: 'collector', status: 'open' })]);
  });

  it('a dispute holds and its resolution resumes', async () => {
    const event = overdueEvent({ segment: 'quiet' });
    const caseId = await open(event);
    await post(invoiceEvent('dispute.opened', event.data.invoice.externalId)).expect(202);
    expect((await caseDetail(caseId)).status).toBe('on_hold');
    await post(invoiceEvent('dispute.resolved', event.data.invoice.externalId)).expect(202);
    expect((await caseDetail(caseId)).status).toBe('active');
  });

  it('operators place and lift holds; promise holds follow their promise', async () => {
    const event = overdueEvent({ segment: 'quiet' });
    const caseId = await open(event);
    const placed = await sut.http
      .post(`/v1/cases/${caseId}/holds`)
      .set(bearer('operator'))
      .send({ kind: 'manual', reason: 'customer called, checking' })
      .expect(201);
    expect(placed.body).toMatchObject({ kind: 'manual', effect: 'pause', caseStatus: 'on_hold' });
    await sut.http.post(`/v1/cases/${caseId}/holds`).set(bearer('operator')).send({ kind: 'promise', reason: 'x' }).expect(400);
    await sut.http.post(`/v1/cases/${caseId}/holds`).set(bearer('finance')).send({ kind: 'manual', reason: 'x' }).expect(403);
    const released = await sut.http.delete(`/v1/cases/${caseId}/holds/${placed.body.id}`).set(bearer('operator')).send({ reason: 'checked' }).expect(200);
    expect(released.body).toMatchObject({ released: true, caseStatus: 'active' });
    await sut.http.delete(`/v1/cases/${caseId}/holds/${placed.body.id}`).set(bearer('operator')).expect(409);
    await sut.http.delete(`/v1/cases/${caseId}/holds/${randomUUID()}`).set(bearer('operator')).expect(404);

    // A deceased debtor: the ladder pauses and legal review gets a work item for the estate.
    await sut.http.post(`/v1/cases/${caseId}/holds`).set(bearer('operator')).send({ kind: 'deceased', reason: 'relative called' }).expect(201);
    const items = (await sut.http.get(`/v1/work-items?caseId=${caseId}`).set(bearer('operator')).expect(200)).body.items;
    expect(items).toEqual([expect.objectContaining({ kind: 'legal', status: 'open', reason: expect.stringContaining('estate handling') })]);
    expect((await caseDetail(caseId)).status).toBe('on_hold');
  });

  it('a payment plan pauses the ladder; paying every instalment keeps it', async () => {
    const event = overdueEvent({ segment: 'quiet', invoice: { amountDue: '300.00' } });
    const caseId = await open(event);
    const day = (n: number) => DateTime.now().setZone('Europe/Berlin').plus({ days: n }).toISODate()!;
    await sut.http
      .post(`/v1/cases/${caseId}/plans`)
      .set(bearer('operator'))
      .send({
        instalments: [
          { dueDate: day(1), amount: '100.00' },
          { dueDate: day(30), amount: '150.00' },
        ],
      })
      .expect(422);
    const plan = await sut.http
      .post(`/v1/cases/${caseId}/plans`)
      .set(bearer('operator'))
      .send({
        instalments: [
          { dueDate: day(1), amount: '100.00' },
          { dueDate: day(30), amount: '200.00' },
        ],
      })
      .expect(201);
    expect(plan.body).toMatchObject({ status: 'active' });
    expect((await caseDetail(caseId)).status).toBe('on_hold');
    const pay = (amount: string) =>
      post({
        id: `pay-${randomUUID().slice(0, 8)}`,
        type: 'payment.received',
        occurredAt: new Date().toISOString(),
        data: {
          invoiceExternalId: event.data.invoice.externalId,
          paymentId: `P-${randomUUID().slice(0, 8)}`,
          amount,
          currency: 'EUR',
          paidAt: new Date().toISOString(),
        },
      });
    await pay('100.00').expect(202);
    expect((await caseDetail(caseId)).status).toBe('on_hold');
    await pay('200.00').expect(202);
    const trail = await touches(caseId);
    expect(trail.map((t) => t.kind)).toEqual(expect.arrayContaining(['plan.agreed', 'plan.kept', 'case.resolved']));
  });
});
