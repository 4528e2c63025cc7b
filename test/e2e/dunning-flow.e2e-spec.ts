import { DateTime } from 'luxon';
import { Reconciler } from '../../src/scheduling/reconciler.service';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, invoiceEvent, loseAllJobs, overdueEvent, paymentEvent, runStepAgain, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

describe('dunning flow over HTTP with a real SMTP server', () => {
  const smtp = new SmtpSink();
  let sut: TestApp;

  beforeAll(async () => {
    const smtpUrl = await smtp.start();
    sut = await startTestApp('flow', 1, { SMTP_URL: smtpUrl });
  });

  afterAll(async () => {
    await sut?.close();
    await smtp.stop();
  });

  const post = (body: object) => sut.http.post('/v1/events').set(bearer('ingest')).send(body);
  const caseDetail = async (caseId: string) => (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('finance')).expect(200)).body;
  const touches = async (caseId: string) =>
    (await sut.http.get(`/v1/cases/${caseId}/touches?limit=500`).set(bearer('auditor')).expect(200)).body.items as {
      kind: string;
      data: Record<string, unknown>;
      actor: string;
    }[];

  /** The listing's items once it shows any: it may come from a replica (DATABASE_READ_URL), a moment behind the primary. */
  const listed = (query: string) =>
    waitFor(`cases listed for ${query}`, async () => {
      const items = (await sut.http.get(`/v1/cases?${query}`).set(bearer('finance')).expect(200)).body.items as { id: string }[];
      return items.length > 0 && items;
    });

  async function open(event = overdueEvent()) {
    const response = await post(event).expect(202);
    expect(response.body.results).toEqual([{ id: event.id, status: 'accepted', caseId: expect.any(String) }]);
    return { event, caseId: response.body.results[0].caseId as string, email: event.data.debtor.email };
  }

  it('sends exactly one email at the step time, naming the amount and the invoice', async () => {
    const { event, caseId, email } = await open();
    const firstStep = (await caseDetail(caseId)).schedule[0];
    expect(firstStep).toMatchObject({ index: 0, status: 'pending', action: 'notice', template: 'reminder-friendly' });

    const mail = await waitFor('the notice at the SMTP server', () => smtp.to(email)[0]);
    expect(mail.receivedAt.getTime()).toBeGreaterThanOrEqual(new Date(firstStep.dueAt).getTime());
    expect(mail.text).toContain('1,250.00');
    expect(mail.text).toContain(event.data.invoice.externalId);
    expect(mail.text).toContain(event.data.invoice.contractRef);

    await waitFor('step done', async () => (await caseDetail(caseId)).schedule[0].status === 'done');
    // A duplicate job for the same step finds the step done and sends nothing.
    expect(await runStepAgain(sut.queue, firstStep.id)).toBe('already-done');
    expect(smtp.to(email)).toHaveLength(1);

    const trail = await touches(caseId);
    expect(trail.map((touch) => touch.kind)).toEqual(['event.received', 'case.opened', 'step.scheduled', 'step.scheduled', 'notice.sent']);
    expect(trail[4]!.data).toMatchObject({ stepId: firstStep.id, template: 'reminder-friendly', balance: '1250.00', currency: 'EUR' });
    expect(trail[0]!.actor).toBe('ingest-key');
  });

  it('a payment in full before the step means no email, a resolved case and no pending step', async () => {
    const { event, caseId, email } = await open();
    const paid = await post(paymentEvent(event.data.invoice.externalId, '1250.00')).expect(202);
    expect(paid.body.results[0]).toMatchObject({ status: 'accepted', caseId });

    const detail = await caseDetail(caseId);
    expect(detail).toMatchObject({ status: 'resolved', balance: '0.00' });
    expect(detail.schedule.map((step: { status: string }) => step.status)).toEqual(['cancelled', 'cancelled']);
    expect(await sut.queue.getJob(detail.schedule[0].id)).toBeUndefined();
    // Even a stale job that slipped past the withdrawal sends nothing.
    expect(await runStepAgain(sut.queue, detail.schedule[0].id)).toBe('already-cancelled');
    expect(smtp.to(email)).toHaveLength(0);
    const trail = await touches(caseId);
    expect(trail.map((touch) => touch.kind)).toEqual(expect.arrayContaining(['payment.applied', 'step.cancelled', 'case.resolved']));
    expect(trail.find((touch) => touch.kind === 'step.cancelled')?.data).toMatchObject({ stepId: detail.schedule[0].id, index: 0 });
  });

  it('a partial payment lowers the balance and the next notice states the new balance', async () => {
    const { event, caseId, email } = await open();
    await post(paymentEvent(event.data.invoice.externalId, '250.00')).expect(202);
    expect(await caseDetail(caseId)).toMatchObject({ status: 'active', balance: '1000.00', principal: '1250.00' });

    const mail = await waitFor('the notice', () => smtp.to(email)[0]);
    expect(mail.text).toContain('1,000.00');
    expect(mail.text).not.toContain('1,250.00');
  });

  it('a touch written while the mail server is still answering does not break the chain', async () => {
    let release!: () => void;
    smtp.gate = new Promise((resolve) => (release = resolve));
    try {
      const { event, caseId, email } = await open(overdueEvent({ segment: 'at-once' }));
      await waitFor('the notice to reach the mail server', () => smtp.waiting === 1);
      // The case's audit head moves between the claim and the record of the send.
      await post(paymentEvent(event.data.invoice.externalId, '50.00')).expect(202);
      release();
      await waitFor('step done', async () => (await caseDetail(caseId)).schedule[0].status === 'done');
      expect(smtp.to(email)).toHaveLength(1);
      const kinds = (await touches(caseId)).map((touch) => touch.kind);
      expect(kinds.slice(-3)).toEqual(['event.received', 'payment.applied', 'notice.sent']);
      expect((await sut.http.get('/v1/audit/verify').set(bearer('auditor')).expect(200)).body.ok).toBe(true);
    } finally {
      smtp.gate = undefined;
      release();
    }
  });

  it('the same event twice gives one case, the second answer `duplicate`', async () => {
    const event = overdueEvent({ invoice: { dueDate: '2099-01-01' } });
    const first = await post(event).expect(202);
    const second = await post(event).expect(202);
    expect(second.body.results[0]).toEqual({ id: event.id, status: 'duplicate', caseId: first.body.results[0].caseId });
    expect(await listed(`debtorExternalId=${event.data.debtor.externalId}`)).toHaveLength(1);
  });

  it('a batch carries one result per event, a rejected event not blocking the others', async () => {
    const good = overdueEvent({ invoice: { dueDate: '2099-01-01' } });
    const bad = overdueEvent({ invoice: { currency: 'EURO' } });
    const response = await post({ events: [bad, good] }).expect(202);
    expect(response.body.results).toEqual([
      { id: bad.id, status: 'rejected', error: expect.stringContaining('data.invoice.currency') },
      { id: good.id, status: 'accepted', caseId: expect.any(String) },
    ]);
  });

  it('a mixed batch: new invoices open in bulk, a repeat is a duplicate, an open invoice keeps its case, one invoice twice runs in order', async () => {
    const later = { invoice: { dueDate: '2099-03-01' } };
    const known = await open(overdueEvent(later));
    const fresh = Array.from({ length: 5 }, () => overdueEvent(later));
    const sameDebtor = overdueEvent({ ...later, debtor: { externalId: fresh[0]!.data.debtor.externalId, timezone: 'Asia/Tokyo' } });
    const reopen = overdueEvent({ invoice: { ...later.invoice, externalId: known.event.data.invoice.externalId } });
    const twice = overdueEvent(later);
    const paidTwice = paymentEvent(twice.data.invoice.externalId, '1250.00');
    const response = await post({ events: [...fresh, sameDebtor, known.event, reopen, twice, paidTwice] }).expect(202);

    const results = response.body.results as { id: string; status: string; caseId?: string }[];
    expect(results.slice(0, 6).map((r) => r.status)).toEqual(Array(6).fill('accepted'));
    expect(new Set(results.slice(0, 6).map((r) => r.caseId)).size).toBe(6);
    expect(results[6]).toEqual({ id: known.event.id, status: 'duplicate', caseId: known.caseId });
    expect(results[7]).toEqual({ id: reopen.id, status: 'accepted', caseId: known.caseId });
    expect(results[8]!.status).toBe('accepted');
    expect(results[9]).toEqual({ id: paidTwice.id, status: 'accepted', caseId: results[8]!.caseId });

    expect((await caseDetail(results[8]!.caseId!)).status).toBe('resolved');
    const [debtor] = await sut.db.query('SELECT timezone FROM debtors WHERE external_id = $1', [fresh[0]!.data.debtor.externalId]);
    expect(debtor.timezone).toBe('Asia/Tokyo');
    const reopened = await touches(known.caseId);
    expect(reopened[reopened.length - 1]).toMatchObject({
      kind: 'event.received',
      data: { eventId: reopen.id, note: 'a case is already open for this invoice' },
    });
    const verify = await sut.http.get('/v1/audit/verify').set(bearer('auditor')).expect(200);
    expect(verify.body.ok).toBe(true);
  });

  it('after the queue loses its jobs (Redis flushed) the reconciler re-creates the job and the step still runs', async () => {
    const { caseId, email } = await open(overdueEvent({ invoice: { dueDate: new Date(Date.now() + 3000).toISOString() } }));
    const step = (await caseDetail(caseId)).schedule[0];
    expect(await sut.queue.getJob(step.id)).toBeDefined();

    await loseAllJobs(sut);
    expect(await sut.queue.getJob(step.id)).toBeUndefined();

    await sut.app.get(Reconciler).reconcile();
    await waitFor('the notice after reconciliation', () => smtp.to(email).length === 1);
    await waitFor('step done', async () => (await caseDetail(caseId)).schedule[0].status === 'done');
  });

  it('a dispute holds the ladder and its resolution resumes it', async () => {
    const { event, caseId, email } = await open();
    const invoiceId = event.data.invoice.externalId;
    await post(invoiceEvent('dispute.opened', invoiceId, 'goods damaged')).expect(202);
    const held = await caseDetail(caseId);
    expect(held.status).toBe('on_hold');
    expect(held.holds).toEqual([expect.objectContaining({ kind: 'dispute', reason: 'goods damaged', releasedAt: null })]);

    // A job that runs while the case is held does nothing and leaves the step pending.
    expect(await runStepAgain(sut.queue, held.schedule[0].id)).toBe('held');
    expect(smtp.to(email)).toHaveLength(0);
    expect((await caseDetail(caseId)).schedule[0].status).toBe('pending');

    await post(invoiceEvent('dispute.resolved', invoiceId, 'credit note issued')).expect(202);
    expect((await caseDetail(caseId)).status).toBe('active');
    await waitFor('the notice after the hold is released', () => smtp.to(email).length === 1);
    await waitFor('step done', async () => (await caseDetail(caseId)).schedule[0].status === 'done');
    const trail = await touches(caseId);
    expect(trail.map((touch) => touch.kind)).toEqual(expect.arrayContaining(['hold.placed', 'hold.released', 'notice.sent']));
    expect(trail.find((touch) => touch.kind === 'hold.released')?.data).toMatchObject({ holdIds: [held.holds[0].id], resumedSteps: 2 });
  });

  it('a payment in full during a dispute resolves the case and ends the hold', async () => {
    const { event, caseId } = await open(overdueEvent({ invoice: { dueDate: '2099-01-01' } }));
    await post(invoiceEvent('dispute.opened', event.data.invoice.externalId, 'wrong amount')).expect(202);
    await post(paymentEvent(event.data.invoice.externalId, '1250.00')).expect(202);
    const detail = await caseDetail(caseId);
    expect(detail.status).toBe('resolved');
    expect(detail.holds).toEqual([expect.objectContaining({ kind: 'dispute', releasedAt: expect.any(String), releasedBy: 'ingest-key' })]);
    expect((await touches(caseId)).map((touch) => touch.kind).slice(-2)).toEqual(['hold.released', 'case.resolved']);
  });

  it('lists cases by stage, counting days past due on the debtor’s calendar', async () => {
    const tenDaysAgo = DateTime.now().setZone('Pacific/Auckland').minus({ days: 10 }).toISODate()!;
    const { event, caseId } = await open(overdueEvent({ invoice: { dueDate: tenDaysAgo }, debtor: { timezone: 'Pacific/Auckland' } }));
    const list = async (query: string) =>
      (await sut.http.get(`/v1/cases?debtorExternalId=${event.data.debtor.externalId}&${query}`).set(bearer('finance')).expect(200)).body.items;
    expect(await listed(`debtorExternalId=${event.data.debtor.externalId}&stage=middle`)).toEqual([
      expect.objectContaining({ id: caseId, stage: 'middle', daysPastDue: 10 }),
    ]);
    expect(await list('stage=early')).toEqual([]);
  });

  it('a cancelled invoice closes the case and cancels its steps', async () => {
    const { event, caseId } = await open(overdueEvent({ invoice: { dueDate: '2099-01-01' } }));
    await post(invoiceEvent('invoice.cancelled', event.data.invoice.externalId, 'issued in error')).expect(202);
    const detail = await caseDetail(caseId);
    expect(detail.status).toBe('cancelled');
    expect(detail.schedule.every((step: { status: string }) => step.status === 'cancelled')).toBe(true);
  });

  it('a payment for an invoice without an open case is a 422 naming the field', async () => {
    const response = await post(paymentEvent('NO-SUCH-INVOICE', '1.00')).expect(422);
    expect(response.body.message).toContain('data.invoiceExternalId');
  });
});
