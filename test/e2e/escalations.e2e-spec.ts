import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DateTime } from 'luxon';
import { Webhook } from 'standardwebhooks';
import { AuditService } from '../../src/audit/audit.service';
import { CaseRepository } from '../../src/cases/case.repository';
import { Transactions } from '../../src/database/transactions';
import type { EscalationTarget } from '../../src/domain/escalations';
import { type Escalation, EscalationService } from '../../src/escalations/escalation.service';
import { verifyWebhookSignature } from '../../src/escalations/webhook-signature';
import { bearer, overdueEvent, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const SECRET = 'agency-webhook-secret-0123456789';

interface Touch {
  kind: string;
  actor: string;
  channel: string | null;
  data: Record<string, unknown>;
}

interface Delivery {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: Record<string, unknown>;
  receivedAt: Date;
}

/** The agency's end: records every POST and answers with the queued statuses, then 200. */
class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  readonly answers: number[] = [];
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        this.deliveries.push({ headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')), receivedAt: new Date() });
        res.writeHead(this.answers.shift() ?? 200, { 'Content-Type': 'application/json' }).end('{"received":true}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/dunning`;
  }

  for(placementId: string): Delivery[] {
    return this.deliveries.filter((delivery) => delivery.body.placementId === placementId);
  }

  /** The deliveries of a placement once there are some (for waitFor: an empty list is still truthy). */
  arrived(placementId: string): Delivery[] | null {
    const found = this.for(placementId);
    return found.length ? found : null;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe('escalations: agency placements with a signed webhook, the collectors work queue', () => {
  const receiver = new WebhookReceiver();
  let sut: TestApp;

  beforeAll(async () => {
    const url = await receiver.start();
    sut = await startTestApp('escalations', 7, {
      AGENCY_WEBHOOK_URL: url,
      AGENCY_WEBHOOK_SECRET: SECRET,
      AGENCY_NAME: 'Acme Recoveries',
      AGENCY_COMMISSION_RATE: '0.2',
    });
  });

  afterAll(async () => {
    await sut?.close();
    await receiver.stop();
  });

  const touches = async (caseId: string) =>
    (await sut.http.get(`/v1/cases/${caseId}/touches?limit=500`).set(bearer('auditor')).expect(200)).body.items as Touch[];
  const kinds = async (caseId: string) => (await touches(caseId)).map((touch) => touch.kind);

  /** A case on the `quiet` policy: nothing is due for years, so every touch here is the test's doing. */
  async function openCase(): Promise<{ caseId: string; event: ReturnType<typeof overdueEvent>; stepId: string }> {
    const event = overdueEvent({ segment: 'quiet', debtor: { phone: '+49 30 1234567', address: { line1: 'Hauptstr. 1', city: 'Berlin', country: 'DE' } } });
    const response = await sut.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
    expect(response.body.results[0]).toMatchObject({ status: 'accepted' });
    const caseId = response.body.results[0].caseId as string;
    const detail = (await sut.http.get(`/v1/cases/${caseId}`).set(bearer('operator')).expect(200)).body;
    return { caseId, event, stepId: detail.schedule[0].id as string };
  }

  /** What the step worker does: escalate and record in one transaction holding the case lock, then run afterCommit. */
  async function escalate(caseId: string, to: EscalationTarget, context: { stepId?: string; reason?: string } = {}): Promise<Escalation> {
    const escalation = await sut.app.get(Transactions).run(async (tx) => {
      const kase = (await sut.app.get(CaseRepository).lock(tx, caseId))!;
      const result = await sut.app.get(EscalationService).escalate(tx, kase, to, 'system', context);
      await sut.app.get(AuditService).record(tx, caseId, result.touches);
      return result;
    });
    await escalation.afterCommit?.();
    return escalation;
  }

  const placement = async (placementId: string) => {
    const { items } = (await sut.http.get('/v1/placements?format=json&limit=500').set(bearer('finance')).expect(200)).body;
    return (items as { placementId: string; webhook: { status: string; attempts: number; lastError: string | null } }[]).find(
      (item) => item.placementId === placementId,
    );
  };

  describe('agency', () => {
    it('places the case and posts one signed webhook naming the case and balance; the trail shows placed and notified', async () => {
      const { caseId, event, stepId } = await openCase();
      const escalation = await escalate(caseId, 'agency', { stepId, reason: 'late stage, no contact' });
      expect(escalation.target).toMatchObject({ to: 'agency', created: true });
      const placementId = escalation.target.placementId!;

      const delivery = (await waitFor('the webhook at the agency', () => receiver.arrived(placementId)))[0]!;
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(delivery.headers['x-dunning-delivery']).toBe(placementId);
      const signature = delivery.headers['x-dunning-signature'] as string;
      expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifyWebhookSignature(SECRET, signature, delivery.raw, 300, new Date())).toBe(true);
      expect(verifyWebhookSignature('another-secret-0123456789', signature, delivery.raw, 300, new Date())).toBe(false);
      // Beside its own signature, the Standard Webhooks headers, keyed with the secret's bytes.
      expect(delivery.headers['webhook-id']).toBe(`msg_${placementId}`);
      expect(new Webhook(SECRET, { format: 'raw' }).verify(delivery.raw.toString('utf8'), delivery.headers as Record<string, string>)).toEqual(delivery.body);
      expect(delivery.body).toEqual({
        type: 'agency.placement',
        placementId,
        caseId,
        agency: 'Acme Recoveries',
        commissionRate: '0.2',
        balance: '1250.00',
        currency: 'EUR',
        debtor: {
          externalId: event.data.debtor.externalId,
          name: 'Ana Debtor',
          email: event.data.debtor.email,
          phone: '+49 30 1234567',
          address: { line1: 'Hauptstr. 1', city: 'Berlin', country: 'DE' },
        },
        invoice: {
          externalId: event.data.invoice.externalId,
          contractRef: event.data.invoice.contractRef,
          dueDate: DateTime.fromISO(event.data.invoice.dueDate).setZone('Europe/Berlin').toISODate(),
        },
        placedAt: expect.any(String),
      });

      const trail = await waitFor('agency.notified on the trail', async () => {
        const all = await touches(caseId);
        return all.some((touch) => touch.kind === 'agency.notified') ? all : null;
      });
      const escalationKinds = ['escalation.created', 'agency.placed', 'agency.notified'];
      expect(trail.map((touch) => touch.kind).filter((kind) => escalationKinds.includes(kind))).toEqual(escalationKinds);
      expect(trail.find((touch) => touch.kind === 'escalation.created')!.data).toEqual({ to: 'agency', placementId, reason: 'late stage, no contact', stepId });
      expect(trail.find((touch) => touch.kind === 'agency.placed')!.data).toMatchObject({
        placementId,
        agency: 'Acme Recoveries',
        commissionRate: '0.2',
        balance: '1250.00',
        currency: 'EUR',
      });
      expect(trail.find((touch) => touch.kind === 'agency.notified')).toMatchObject({
        actor: 'system',
        channel: 'webhook',
        data: { placementId, status: 200, attempts: 1 },
      });
      expect(await placement(placementId)).toMatchObject({ webhook: { status: 'sent', attempts: 1, lastError: null } });

      // The same step again (a rerun job) makes nothing new and sends nothing.
      const again = await escalate(caseId, 'agency', { stepId });
      expect(again).toMatchObject({ touches: [], target: { placementId, created: false } });
      expect(again.afterCommit).toBeUndefined();
      expect((await kinds(caseId)).filter((kind) => escalationKinds.includes(kind))).toEqual(escalationKinds);
      expect(receiver.for(placementId)).toHaveLength(1);
    });

    it('a receiver that answers 500 and then 200 gets the same delivery twice; the case gets exactly one agency.notified', async () => {
      const { caseId } = await openCase();
      receiver.answers.push(500);
      const { target } = await escalate(caseId, 'agency');
      const placementId = target.placementId!;

      await waitFor('the placement marked sent', async () => (await placement(placementId))?.webhook.status === 'sent');
      const deliveries = receiver.for(placementId);
      expect(deliveries).toHaveLength(2);
      expect(new Set(deliveries.map((delivery) => delivery.headers['x-dunning-delivery']))).toEqual(new Set([placementId]));
      for (const delivery of deliveries) {
        expect(verifyWebhookSignature(SECRET, delivery.headers['x-dunning-signature'] as string, delivery.raw, 300, delivery.receivedAt)).toBe(true);
      }
      const notified = (await touches(caseId)).filter((touch) => touch.kind === 'agency.notified');
      expect(notified).toHaveLength(1);
      expect(notified[0]!.data).toMatchObject({ placementId, attempts: 2 });
      // Each attempt is in the webhooks' attempts log, without the agency's answer (a receiver may echo personal data).
      const log = await sut.db.query(`SELECT target, attempt, status_code AS "statusCode", excerpt FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id`, [
        placementId,
      ]);
      expect(log).toEqual([
        { target: 'agency', attempt: 1, statusCode: 500, excerpt: null },
        { target: 'agency', attempt: 2, statusCode: 200, excerpt: null },
      ]);
      expect(await placement(placementId)).toMatchObject({ webhook: { status: 'sent', attempts: 2, lastError: null } });
    });

    it('a receiver that refuses the delivery (401) is not retried: the placement is failed and the case not notified', async () => {
      const { caseId } = await openCase();
      receiver.answers.push(401);
      const { target } = await escalate(caseId, 'agency');
      const placementId = target.placementId!;

      const failed = await waitFor('the placement marked failed', async () => {
        const found = await placement(placementId);
        return found?.webhook.status === 'failed' ? found : null;
      });
      expect(failed.webhook).toMatchObject({ attempts: 1, lastError: 'the agency answered HTTP 401' });
      expect(receiver.for(placementId)).toHaveLength(1);
      expect(await kinds(caseId)).not.toContain('agency.notified');
    });

    it('exports placements as CSV for the agency, filtered by agency and time', async () => {
      const { caseId, event } = await openCase();
      const { target } = await escalate(caseId, 'agency');
      const response = await sut.http.get('/v1/placements?format=csv&agency=Acme%20Recoveries').set(bearer('finance')).expect(200);
      expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(response.headers['content-disposition']).toBe(`attachment; filename="placements-${DateTime.utc().toISODate()}.csv"`);
      const lines = response.text.trim().split('\n');
      expect(lines[0]).toBe('placementId,caseId,placedAt,agency,commissionRate,invoiceExternalId,contractRef,debtorExternalId,debtorName,currency,balance');
      const row = lines.find((line) => line.startsWith(`${target.placementId},`))!;
      expect(row.split(',')).toEqual([
        target.placementId,
        caseId,
        expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        'Acme Recoveries',
        '0.2',
        event.data.invoice.externalId,
        event.data.invoice.contractRef,
        event.data.debtor.externalId,
        'Ana Debtor',
        'EUR',
        '1250.00',
      ]);

      const future = await sut.http
        .get(`/v1/placements?format=csv&since=${DateTime.utc().plus({ days: 1 }).toISODate()}`)
        .set(bearer('operator'))
        .expect(200);
      expect(future.text.trim().split('\n')).toHaveLength(1);
      const otherAgency = await sut.http.get('/v1/placements?format=csv&agency=Someone%20Else').set(bearer('operator')).expect(200);
      expect(otherAgency.text.trim().split('\n')).toHaveLength(1);

      await sut.http.get('/v1/placements?format=csv').set(bearer('ingest')).expect(403);
      const bad = await sut.http.get('/v1/placements?format=xml&since=yesterday').set(bearer('finance')).expect(400);
      expect(bad.body.details.map((detail: { field: string }) => detail.field).sort()).toEqual(['query.format', 'query.since']);
      const paged = await sut.http.get('/v1/placements?format=csv&limit=5').set(bearer('finance')).expect(400);
      expect(paged.body.details).toEqual([{ field: 'query.limit', reason: expect.stringContaining('format=json') }]);
    });
  });

  describe('collector', () => {
    it('a collector claims the work item and records a promise; each step is a touch by the operator key', async () => {
      const { caseId, stepId } = await openCase();
      const escalation = await escalate(caseId, 'collector', { stepId, reason: 'no answer to the reminders' });
      expect(escalation.target).toMatchObject({ to: 'collector', created: true });
      expect(escalation.afterCommit).toBeUndefined();
      // The same step again: the same item.
      expect((await escalate(caseId, 'collector', { stepId })).target).toEqual({ to: 'collector', workItemId: escalation.target.workItemId, created: false });

      const queue = (await sut.http.get(`/v1/work-items?status=open&kind=collector&caseId=${caseId}`).set(bearer('operator')).expect(200)).body;
      expect(queue.items).toHaveLength(1);
      const [item] = queue.items;
      expect(item).toMatchObject({
        id: escalation.target.workItemId,
        caseId,
        stepId,
        kind: 'collector',
        status: 'open',
        assignee: null,
        reason: 'no answer to the reminders',
      });
      expect(item.case).toMatchObject({ balance: '1250.00', currency: 'EUR', debtorName: 'Ana Debtor' });
      await sut.http.get('/v1/work-items').set(bearer('finance')).expect(403);

      const claimed = (await sut.http.post(`/v1/work-items/${item.id}/claim`).set(bearer('operator')).expect(200)).body;
      expect(claimed).toMatchObject({ status: 'claimed', assignee: 'operator-key' });
      // Claiming again for the same assignee is a no-op; for someone else a conflict.
      await sut.http.post(`/v1/work-items/${item.id}/claim`).set(bearer('operator')).send({ assignee: 'operator-key' }).expect(200);
      const taken = await sut.http.post(`/v1/work-items/${item.id}/claim`).set(bearer('operator')).send({ assignee: 'bob' }).expect(409);
      expect(taken.body.message).toContain('claimed by operator-key');
      const mine = (await sut.http.get('/v1/work-items?assignee=operator-key&status=claimed').set(bearer('operator')).expect(200)).body.items;
      expect(mine.map((entry: { id: string }) => entry.id)).toContain(item.id);

      // Bad reports change nothing.
      const badOutcome = await sut.http.post(`/v1/work-items/${item.id}/outcome`).set(bearer('operator')).send({ outcome: 'paid' }).expect(400);
      expect(badOutcome.body.details).toEqual([{ field: 'body.outcome', reason: expect.stringContaining('contacted, promised') }]);
      const noPromise = await sut.http.post(`/v1/work-items/${item.id}/outcome`).set(bearer('operator')).send({ outcome: 'promised' }).expect(400);
      expect(noPromise.body.details).toEqual([{ field: 'body.promise', reason: 'is required when the outcome is promised' }]);
      const badAmount = await sut.http
        .post(`/v1/work-items/${item.id}/outcome`)
        .set(bearer('operator'))
        .send({ outcome: 'promised', promise: { amount: '10.001', dueDate: DateTime.utc().plus({ days: 3 }).toISODate() } })
        .expect(400);
      expect(badAmount.body.details).toEqual([{ field: 'body.promise.amount', reason: expect.stringContaining('EUR') }]);
      const tooMuch = await sut.http
        .post(`/v1/work-items/${item.id}/outcome`)
        .set(bearer('operator'))
        .send({ outcome: 'promised', promise: { amount: '99999999.00', dueDate: DateTime.utc().plus({ days: 3 }).toISODate() } })
        .expect(422);
      expect(tooMuch.body.details).toEqual([{ field: 'body.promise.amount', reason: 'must not exceed the balance' }]);
      expect(tooMuch.body.message).toMatch(/^body\.promise\.amount: 99999999\.00 is more than the balance/);
      await sut.http.post(`/v1/work-items/${item.id}/outcome`).set(bearer('operator')).send({ outcome: 'refused', assignee: 'bob' }).expect(409);

      const dueDate = DateTime.now().setZone('Europe/Berlin').plus({ days: 3 }).toISODate();
      const report = { outcome: 'promised', note: 'will pay after payday', promise: { amount: '300', dueDate } };
      const done = (await sut.http.post(`/v1/work-items/${item.id}/outcome`).set(bearer('operator')).send(report).expect(200)).body;
      expect(done).toMatchObject({
        status: 'done',
        outcome: 'promised',
        note: 'will pay after payday',
        promise: { amount: '300.00', currency: 'EUR', dueDate },
        completedAt: expect.any(String),
      });
      // The same report again answers the same; another report, or a claim, is a conflict.
      await sut.http.post(`/v1/work-items/${item.id}/outcome`).set(bearer('operator')).send(report).expect(200);
      await sut.http.post(`/v1/work-items/${item.id}/outcome`).set(bearer('operator')).send({ outcome: 'refused' }).expect(409);
      await sut.http.post(`/v1/work-items/${item.id}/claim`).set(bearer('operator')).expect(409);

      const trail = await touches(caseId);
      expect(
        trail.filter((touch) => ['escalation.created', 'work-item.claimed', 'work-item.completed'].includes(touch.kind)).map((touch) => touch.kind),
      ).toEqual(['escalation.created', 'work-item.claimed', 'work-item.completed']);
      expect(trail.find((touch) => touch.kind === 'escalation.created')).toMatchObject({
        actor: 'system',
        data: { to: 'collector', workItemId: item.id, stepId },
      });
      expect(trail.find((touch) => touch.kind === 'work-item.claimed')).toMatchObject({
        actor: 'operator-key',
        data: { workItemId: item.id, assignee: 'operator-key' },
      });
      expect(trail.find((touch) => touch.kind === 'work-item.completed')).toMatchObject({
        actor: 'operator-key',
        data: {
          workItemId: item.id,
          assignee: 'operator-key',
          outcome: 'promised',
          note: 'will pay after payday',
          promise: { amount: '300.00', currency: 'EUR', dueDate },
        },
      });
      // The promise the collector took is the case's promise to pay: the ladder waits for it.
      expect(trail.find((touch) => touch.kind === 'promise.recorded')).toMatchObject({
        actor: 'operator-key',
        data: { amount: '300.00', dueDate, source: `work item ${item.id}` },
      });
      expect((await sut.http.get(`/v1/cases/${caseId}`).set(bearer('operator')).expect(200)).body).toMatchObject({
        status: 'on_hold',
        holds: [expect.objectContaining({ kind: 'promise' })],
      });
      const verify = (await sut.http.get('/v1/audit/verify').set(bearer('auditor')).expect(200)).body;
      expect(verify.ok).toBe(true);
    });

    it('answers 409 for an outcome before a claim, 404 for an unknown item, 400 for a bad id or body', async () => {
      const { caseId } = await openCase();
      const { target } = await escalate(caseId, 'collector');
      const id = target.workItemId!;
      await sut.http.post(`/v1/work-items/${id}/outcome`).set(bearer('operator')).send({ outcome: 'contacted' }).expect(409);

      const unknown = randomUUID();
      await sut.http.post(`/v1/work-items/${unknown}/claim`).set(bearer('operator')).expect(404);
      await sut.http.post(`/v1/work-items/${unknown}/outcome`).set(bearer('operator')).send({ outcome: 'contacted' }).expect(404);
      await sut.http.get(`/v1/work-items/${unknown}`).set(bearer('operator')).expect(404);
      const badId = await sut.http.post('/v1/work-items/not-a-uuid/claim').set(bearer('operator')).expect(400);
      expect(badId.body.details).toEqual([{ field: 'id', reason: 'must be a work item id (UUID)' }]);
      const badClaim = await sut.http.post(`/v1/work-items/${id}/claim`).set(bearer('operator')).send({ assignee: '', extra: 1 }).expect(400);
      expect(badClaim.body.details.map((detail: { field: string }) => detail.field).sort()).toEqual(['body', 'body.assignee']);
      const badQuery = await sut.http.get('/v1/work-items?status=closed').set(bearer('operator')).expect(400);
      expect(badQuery.body.details).toEqual([{ field: 'query.status', reason: 'must be one of open, claimed, done' }]);
    });

    it('a later escalation while a collector holds the case adds nothing; a legal review takes legal outcomes only', async () => {
      const { caseId } = await openCase();
      const first = await escalate(caseId, 'collector');
      expect((await escalate(caseId, 'collector')).target).toEqual({ to: 'collector', workItemId: first.target.workItemId, created: false });

      const legal = await escalate(caseId, 'legal', { reason: 'wilful default' });
      expect(legal.target).toMatchObject({ to: 'legal', created: true });
      const id = legal.target.workItemId!;
      await sut.http.post(`/v1/work-items/${id}/claim`).set(bearer('operator')).send({ assignee: 'legal-desk' }).expect(200);
      const wrong = await sut.http
        .post(`/v1/work-items/${id}/outcome`)
        .set(bearer('operator'))
        .send({ outcome: 'promised', promise: { amount: '1', dueDate: '2999-01-01' }, assignee: 'legal-desk' })
        .expect(400);
      expect(wrong.body.details).toEqual([{ field: 'body.outcome', reason: 'must be one of filed, settled, closed for a legal work item' }]);
      await sut.http.post(`/v1/work-items/${id}/outcome`).set(bearer('operator')).send({ outcome: 'filed', assignee: 'legal-desk' }).expect(200);

      const items = (await sut.http.get(`/v1/work-items?caseId=${caseId}`).set(bearer('operator')).expect(200)).body.items;
      expect(items.map((item: { kind: string; status: string }) => [item.kind, item.status])).toEqual([
        ['collector', 'open'],
        ['legal', 'done'],
      ]);
      expect((await kinds(caseId)).filter((kind) => kind === 'escalation.created')).toHaveLength(2);

      // Oldest first, a page at a time.
      const page1 = (await sut.http.get(`/v1/work-items?caseId=${caseId}&limit=1`).set(bearer('operator')).expect(200)).body;
      expect(page1.items.map((item: { kind: string }) => item.kind)).toEqual(['collector']);
      const page2 = (await sut.http.get(`/v1/work-items?caseId=${caseId}&limit=1&cursor=${page1.nextCursor}`).set(bearer('operator')).expect(200)).body;
      expect(page2).toEqual({ items: [expect.objectContaining({ id, kind: 'legal' })], nextCursor: null });
    });
  });
});
