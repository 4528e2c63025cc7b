import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/config.schema';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, overdueEvent, startTestApp, type TestApp, testEnv } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/** The value of one sample line (`name{labels} value`), or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics and request ids', () => {
  const smtp = new SmtpSink();
  let sut: TestApp;
  let smtpUrl: string;

  beforeAll(async () => {
    smtpUrl = await smtp.start();
    sut = await startTestApp('metrics', 9, { SMTP_URL: smtpUrl });
  });

  afterAll(async () => {
    await sut?.close();
    await smtp.stop();
  });

  const scrape = async (http = sut.http) => {
    const response = await http.get('/metrics').set(bearer('operator')).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text;
  };

  it('counts a sent notice, its lateness and the queue states', async () => {
    const event = overdueEvent({ segment: 'at-once' });
    await sut.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
    await waitFor('the notice at the SMTP server', () => smtp.to(event.data.debtor.email)[0]);

    // The counters move once the worker has recorded the send, a moment after the mail arrives.
    const text = await waitFor('the sent notice in /metrics', async () => {
      const scraped = await scrape();
      return sample(scraped, 'dunning_steps_run_total{action="notice",outcome="sent"}') === 1 ? scraped : null;
    });
    expect(sample(text, 'dunning_notices_total{channel="email",result="sent"}')).toBe(1);
    expect(sample(text, 'dunning_notices_total{channel="email",result="failed"}')).toBe(0);
    expect(sample(text, 'dunning_step_lateness_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'dunning_step_lateness_seconds_bucket{le="+Inf"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'dunning_jobs{queue="steps",state="failed"}')).toBe(0);
    // The ladder's next step (an escalation an hour later) waits as a delayed job.
    expect(sample(text, 'dunning_jobs{queue="steps",state="delayed"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'dunning_jobs{queue="webhooks",state="waiting"}')).toBe(0);
    expect(text).toContain('# TYPE dunning_step_lateness_seconds histogram');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('needs an operator or auditor key', async () => {
    await sut.http.get('/metrics').expect(401);
    await sut.http.get('/metrics').set(bearer('finance')).expect(403);
    await sut.http.get('/metrics').set(bearer('ingest')).expect(403);
    await sut.http.get('/metrics').set(bearer('auditor')).expect(200);
    await sut.http.get('/metrics').set(bearer('admin')).expect(200);
  });

  it('returns the caller’s X-Request-Id, or a new one when it is not a plain token', async () => {
    const kept = await sut.http.get('/metrics').set(bearer('operator')).set('X-Request-Id', 'scrape-7f3a.1').expect(200);
    expect(kept.headers['x-request-id']).toBe('scrape-7f3a.1');
    const refused = await sut.http.get('/v1/cases').set('X-Request-Id', 'not a token').expect(401);
    expect(refused.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const fresh = await sut.http.get('/metrics').set(bearer('operator')).expect(200);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh.headers['x-request-id']).not.toBe(refused.headers['x-request-id']);
  });

  it('a worker process serves /metrics with the same keys, from its own registry', async () => {
    let worker: INestApplication | undefined;
    try {
      worker = await createApp(loadConfig(testEnv('metrics', 9, { SMTP_URL: smtpUrl, APP_ROLE: 'worker' })));
      await worker.init();
      const http = request(worker.getHttpServer());
      await http.get('/metrics').expect(401);
      await http.get('/metrics').set(bearer('finance')).expect(403);
      const text = await scrape(http);
      // Same queues, read at scrape time; the step counters are this process's own (it ran no step yet).
      expect(sample(text, 'dunning_jobs{queue="steps",state="failed"}')).toBe(0);
      expect(sample(text, 'dunning_steps_run_total{action="notice",outcome="sent"}')).toBeUndefined();
      expect(sample(text, 'dunning_notices_total{channel="email",result="sent"}')).toBe(0);
      await http.get('/v1/cases').set(bearer('finance')).expect(404);
      // The first app's counters are untouched by the second registry.
      expect(sample(await scrape(), 'dunning_notices_total{channel="email",result="sent"}')).toBe(1);
    } finally {
      await worker?.close();
    }
  });
});
