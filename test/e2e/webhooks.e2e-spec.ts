import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, clearRedis, overdueEvent, SHARED_REDIS_DB, startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: { type: string; timestamp: string; data: { id: string; caseId: string; kind: string } & Record<string, unknown> };
}

/** The subscriber's end: records every POST; `/flaky` answers `flaky` (500 until the test says it recovered). */
class Receiver {
  readonly received: Received[] = [];
  flaky = 500;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (raw += chunk));
      req.on('end', () => {
        this.received.push({ path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw) });
        res.writeHead(req.url === '/flaky' ? this.flaky : 200, { 'Content-Type': 'text/plain' }).end(req.url === '/flaky' ? 'upstream down' : 'ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  of(path: string, caseId: string): Received[] {
    return this.received.filter((entry) => entry.path === path && entry.body.data.caseId === caseId);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe('webhooks: subscribed endpoints get signed touches, retried, disabled and replayed', () => {
  const receiver = new Receiver();
  const smtp = new SmtpSink();
  let base: string;
  let sut: TestApp;

  beforeAll(async () => {
    base = await receiver.start();
    const smtpUrl = await smtp.start();
    sut = await startTestApp('webhooks', SHARED_REDIS_DB, {
      SMTP_URL: smtpUrl,
      QUEUE_PREFIX: `webhooks-${randomBytes(4).toString('hex')}`,
      WEBHOOK_SECRETS_KEY: randomBytes(32).toString('hex'),
      WEBHOOK_ALLOW_PRIVATE: 'on',
      WEBHOOK_SWEEP_EVERY: 'PT0.2S',
      WEBHOOK_BACKOFF: 'PT0.1S',
      WEBHOOK_ATTEMPTS: '3',
      WEBHOOK_DISABLE_AFTER: '1',
    });
  });

  afterAll(async () => {
    if (sut) {
      await sut.close();
      await clearRedis(sut.config);
    }
    await smtp.stop();
    await receiver.stop();
  });

  const subscribe = async (path: string, kinds = ['notice.sent']) =>
    (
      await sut.http
        .post('/v1/webhooks')
        .set(bearer('admin'))
        .send({ url: `${base}${path}`, kinds })
        .expect(201)
    ).body as {
      id: string;
      secret: string;
    };
  const openCase = async () => {
    const response = await sut.http
      .post('/v1/events')
      .set(bearer('ingest'))
      .send(overdueEvent({ segment: 'at-once' }))
      .expect(202);
    return response.body.results[0].caseId as string;
  };
  const deliveries = async (endpointId: string) =>
    (await sut.http.get(`/v1/webhooks/${endpointId}/deliveries`).set(bearer('admin')).expect(200)).body.items as {
      id: string;
      caseId: string;
      status: string;
      attempts: number;
    }[];

  it('delivers notice.sent with a signature the standardwebhooks verifier accepts, carrying the touch and no more', async () => {
    const endpoint = await subscribe('/ok');
    expect(endpoint.secret).toMatch(/^whsec_/);
    const listed = (await sut.http.get('/v1/webhooks').set(bearer('admin')).expect(200)).body.items;
    expect(listed.find((item: { id: string }) => item.id === endpoint.id)).toMatchObject({ enabled: true, kinds: ['notice.sent'] });
    expect(JSON.stringify(listed)).not.toContain(endpoint.secret);
    await sut.http.get('/v1/webhooks').set(bearer('operator')).expect(403);

    const caseId = await openCase();
    const [received] = await waitFor('the notice at the endpoint', () => {
      const found = receiver.of('/ok', caseId);
      return found.length ? found : null;
    });
    expect(new Webhook(endpoint.secret).verify(received!.raw, received!.headers as Record<string, string>)).toEqual(received!.body);
    expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(received!.raw, received!.headers as Record<string, string>)).toThrow();

    const touches = (await sut.http.get(`/v1/cases/${caseId}/touches`).set(bearer('auditor')).expect(200)).body.items as Record<string, unknown>[];
    const sent = touches.find((touch) => touch.kind === 'notice.sent')!;
    expect(received!.body).toEqual({
      type: 'notice.sent',
      timestamp: sent.at,
      data: { id: sent.id, caseId, kind: 'notice.sent', at: sent.at, actor: sent.actor, channel: sent.channel, data: sent.data },
    });

    const delivery = await waitFor('the delivery marked delivered', async () =>
      (await deliveries(endpoint.id)).find((entry) => entry.caseId === caseId && entry.status === 'delivered'),
    );
    expect(received!.headers['webhook-id']).toBe(`msg_${delivery.id}`);
    const detail = (await sut.http.get(`/v1/webhooks/${endpoint.id}/deliveries/${delivery.id}`).set(bearer('admin')).expect(200)).body;
    expect(detail).toMatchObject({ status: 'delivered', attempts: 1, log: [{ attempt: 1, statusCode: 200, error: null, excerpt: 'ok' }] });
    expect(receiver.of('/ok', caseId)).toHaveLength(1);
  });

  it('retries an endpoint that answers 500, disables it with a touch and a metric, and replays once it recovers', async () => {
    const endpoint = await subscribe('/flaky');
    const caseId = await openCase();

    const disabled = await waitFor('the endpoint disabled', async () => {
      const found = (await sut.http.get(`/v1/webhooks/${endpoint.id}`).set(bearer('admin')).expect(200)).body;
      return found.enabled ? null : found;
    });
    expect(disabled.disabledReason).toContain('HTTP 500');
    const attempts = receiver.of('/flaky', caseId);
    expect(attempts).toHaveLength(3);
    const [delivery] = (await deliveries(endpoint.id)).filter((entry) => entry.caseId === caseId);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 3 });
    expect(new Set(attempts.map((entry) => entry.headers['webhook-id']))).toEqual(new Set([`msg_${delivery!.id}`]));
    const log = (await sut.http.get(`/v1/webhooks/${endpoint.id}/deliveries/${delivery!.id}`).set(bearer('admin')).expect(200)).body.log;
    expect(log.map((entry: { attempt: number; statusCode: number }) => [entry.attempt, entry.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 500],
    ]);

    const touches = (await sut.http.get(`/v1/cases/${caseId}/touches`).set(bearer('auditor')).expect(200)).body.items as Record<string, unknown>[];
    expect(touches.find((touch) => touch.kind === 'webhook.disabled')).toMatchObject({
      actor: 'system',
      channel: 'webhook',
      data: { endpointId: endpoint.id, deliveryId: delivery!.id, reason: expect.stringContaining('HTTP 500') },
    });
    const metrics = (await sut.http.get('/metrics').set(bearer('operator')).expect(200)).text;
    expect(metrics).toMatch(/^dunning_webhook_endpoints_disabled_total 1$/m);

    const replay = `/v1/webhooks/${endpoint.id}/deliveries/${delivery!.id}/replay`;
    await sut.http.post(replay).set(bearer('admin')).expect(409);
    receiver.flaky = 200;
    const enabled = (await sut.http.patch(`/v1/webhooks/${endpoint.id}`).set(bearer('admin')).send({ enabled: true }).expect(200)).body;
    expect(enabled).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledReason: null });
    await sut.http.post(replay).set(bearer('admin')).expect(202);

    const replayed = await waitFor('the replay delivered', async () => {
      const found = (await sut.http.get(`/v1/webhooks/${endpoint.id}/deliveries/${delivery!.id}`).set(bearer('admin')).expect(200)).body;
      return found.status === 'delivered' ? found : null;
    });
    expect(replayed).toMatchObject({ attempts: 4, replays: 1 });
    const last = receiver.of('/flaky', caseId).at(-1)!;
    expect(receiver.of('/flaky', caseId)).toHaveLength(4);
    expect(last.headers['webhook-id']).toBe(`msg_${delivery!.id}`);
    expect(new Webhook(endpoint.secret).verify(last.raw, last.headers as Record<string, string>)).toEqual(last.body);
  });

  it('refuses bad subscriptions naming the field, and changes nothing', async () => {
    const before = (await sut.http.get('/v1/webhooks').set(bearer('admin')).expect(200)).body.items.length;
    const scheme = await sut.http
      .post('/v1/webhooks')
      .set(bearer('admin'))
      .send({ url: 'ftp://example.com/x', kinds: ['notice.sent'] })
      .expect(400);
    expect(scheme.body.details).toEqual([{ field: 'body.url', reason: 'must be an http or https URL' }]);
    const kind = await sut.http
      .post('/v1/webhooks')
      .set(bearer('admin'))
      .send({ url: `${base}/ok`, kinds: ['notice.nope'] })
      .expect(400);
    expect(kind.body.details[0].field).toBe('body.kinds[0]');
    const secret = await sut.http
      .post('/v1/webhooks')
      .set(bearer('admin'))
      .send({ url: `${base}/ok`, kinds: ['notice.sent'], secret: 'hunter2' })
      .expect(400);
    expect(secret.body.details[0].field).toBe('body.secret');
    await sut.http.patch('/v1/webhooks/00000000-0000-4000-8000-000000000000').set(bearer('admin')).send({ enabled: true }).expect(404);
    expect((await sut.http.get('/v1/webhooks').set(bearer('admin')).expect(200)).body.items).toHaveLength(before);
  });
});
