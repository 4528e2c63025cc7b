import * as zlib from 'node:zlib';
import { bearer, KEYS, overdueEvent, startTestApp, type TestApp } from '../support/test-app';

describe('bad input gets a clear 4xx and changes nothing', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await startTestApp('bad_input', 3);
  });

  afterAll(async () => {
    await sut?.close();
  });

  const rowCounts = async () =>
    (
      await sut.db.query(
        `SELECT (SELECT count(*) FROM debtors) AS debtors, (SELECT count(*) FROM invoices) AS invoices, (SELECT count(*) FROM cases) AS cases,
                (SELECT count(*) FROM processed_events) AS events, (SELECT count(*) FROM touches) AS touches, (SELECT count(*) FROM scheduled_steps) AS steps`,
      )
    )[0];

  const post = (body: string | object) =>
    sut.http
      .post('/v1/events')
      .set({ ...bearer('ingest'), 'Content-Type': 'application/json' })
      .send(typeof body === 'string' ? body : JSON.stringify(body));

  const withoutDebtor = () => {
    const event = overdueEvent();
    delete (event.data as Partial<typeof event.data>).debtor;
    return event;
  };

  const cases: [string, string, () => string | object][] = [
    ['wrong currency', 'data.invoice.currency', () => overdueEvent({ invoice: { currency: 'EURO' } })],
    ['negative amount', 'data.invoice.amountDue', () => overdueEvent({ invoice: { amountDue: '-5.00' } })],
    ['non-numeric amount', 'data.invoice.amountDue', () => overdueEvent({ invoice: { amountDue: 'twelve' } })],
    ['amount as a float', 'data.invoice.amountDue', () => overdueEvent({ invoice: { amountDue: 12.5 } })],
    ['too many decimals', 'data.invoice.amountDue', () => overdueEvent({ invoice: { amountDue: '1.001' } })],
    ['missing debtor', 'data.debtor', withoutDebtor],
    ['unknown time zone', 'data.debtor.timezone', () => overdueEvent({ debtor: { timezone: 'Mars/Olympus_Mons' } })],
    ['impossible date', 'data.invoice.dueDate', () => overdueEvent({ invoice: { dueDate: '2026-02-30' } })],
    ['unknown event type', 'type', () => ({ ...overdueEvent(), type: 'invoice.exploded' })],
    ['unknown field', 'data.invoice', () => overdueEvent({ invoice: { discount: '5' } })],
    ['malformed JSON', 'body', () => '{"id": "x", "type": '],
    ['not an event', 'body', () => [1, 2, 3]],
    ['more than 1000 events', 'events', () => ({ events: Array.from({ length: 1001 }, () => overdueEvent()) })],
    ['an empty batch', 'events', () => ({ events: [] })],
  ];

  it.each(cases)('%s → 400 naming %s, no row written', async (_name, field, body) => {
    const before = await rowCounts();
    const response = await post(body()).expect(400);
    expect(response.body).toMatchObject({ statusCode: 400, message: expect.stringContaining(field) });
    expect(await rowCounts()).toEqual(before);
  });

  it('in a batch, a bad event is `rejected` with the field named and writes nothing', async () => {
    const before = await rowCounts();
    const response = await post({ events: [overdueEvent({ debtor: { timezone: 'Nowhere/City' } })] }).expect(202);
    expect(response.body.results[0]).toMatchObject({ status: 'rejected', error: expect.stringContaining('data.debtor.timezone') });
    expect(await rowCounts()).toEqual(before);
  });

  it('a promise the case cannot take names the field, or the invoice when the case itself refuses it', async () => {
    const event = overdueEvent({ segment: 'quiet', invoice: { amountDue: '300.00' } });
    const caseId = (await post(event).expect(202)).body.results[0].caseId as string;
    const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
    const instalments = [
      { dueDate: day(7), amount: '100.00' },
      { dueDate: day(37), amount: '200.00' },
    ];
    await sut.http.post(`/v1/cases/${caseId}/plans`).set(bearer('operator')).send({ instalments }).expect(201);
    const promise = (amount: string) => ({
      id: `ptp-${Math.random().toString(36).slice(2, 10)}`,
      type: 'promise.made',
      occurredAt: new Date().toISOString(),
      data: { invoiceExternalId: event.data.invoice.externalId, amount, dueDate: day(3) },
    });
    const before = await rowCounts();
    const tooMuch = await post(promise('900.00')).expect(422);
    expect(tooMuch.body.message).toBe('data.amount: 900.00 is more than the balance 300.00');
    const planned = await post(promise('50.00')).expect(422);
    expect(planned.body.message).toBe(`data.invoiceExternalId: case ${caseId} has an active payment plan; a promise would not change it`);
    const inBatch = await post({ events: [promise('50.00')] }).expect(202);
    expect(inBatch.body.results[0]).toMatchObject({
      status: 'rejected',
      error: expect.stringMatching(/^data\.invoiceExternalId: case .* has an active payment plan/),
    });
    expect(await rowCounts()).toEqual(before);
  });

  it('an unknown policy is rejected and writes nothing', async () => {
    const before = await rowCounts();
    const response = await post(overdueEvent({ policy: 'no-such-policy' })).expect(422);
    expect(response.body.message).toContain('data.policy');
    expect(await rowCounts()).toEqual(before);
  });

  it('no key is 401, a wrong key is 401, a wrong role is 403, health needs no key', async () => {
    await sut.http.post('/v1/events').send(overdueEvent()).expect(401);
    await sut.http.post('/v1/events').set({ Authorization: 'Bearer not-a-key-at-all' }).send(overdueEvent()).expect(401);
    await sut.http.post('/v1/events').set(bearer('finance')).send(overdueEvent()).expect(403);
    await sut.http.get('/v1/cases').expect(401);
    await sut.http.get('/v1/cases').set(bearer('ingest')).expect(403);
    await sut.http.get('/v1/audit/verify').set(bearer('finance')).expect(403);
    await sut.http.get('/v1/cases').set(bearer('admin')).expect(200);
    await sut.http.get('/health/live').expect(200);
    const ready = await sut.http.get('/health/ready').expect(200);
    expect(ready.body.info).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'up' } });
  });

  it('an unknown unsubscribe link is a 404 in the JSON error body, not labelled as the HTML page', async () => {
    for (const method of ['get', 'post'] as const) {
      const response = await sut.http[method]('/v1/unsubscribe/not-a-token').expect(404);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'unknown unsubscribe link' });
    }
  });

  it('an unsubscribe link with a NUL or other characters no token has is unknown, not a database error', async () => {
    for (const token of ['a%00b', 'a%0A%E2%80%AE%00', '%F0%9F%98%80', 'x'.repeat(129)]) {
      for (const method of ['get', 'post'] as const) {
        const response = await sut.http[method](`/v1/unsubscribe/${token}`);
        expect({ token, method, status: response.status, body: response.body }).toEqual({
          token,
          method,
          status: 404,
          body: { statusCode: 404, error: 'Not Found', message: 'unknown unsubscribe link' },
        });
      }
    }
  });

  it('a malformed case id is 400 and an unknown one 404', async () => {
    const bad = await sut.http.get('/v1/cases/not-a-uuid').set(bearer('finance')).expect(400);
    expect(bad.body.message).toContain('id');
    await sut.http.get('/v1/cases/00000000-0000-4000-8000-000000000000').set(bearer('finance')).expect(404);
    const filter = await sut.http.get('/v1/cases?status=sleeping').set(bearer('finance')).expect(400);
    expect(filter.body.message).toContain('query.status');
    const cursor = await sut.http.get('/v1/cases?cursor=bm90LWEtY3Vyc29y').set(bearer('finance')).expect(400);
    expect(cursor.body).toMatchObject({ error: 'Bad Request', message: expect.stringContaining('query.cursor') });
  });

  it('a path that is not valid percent-encoding and a corrupt compressed body are 400s that name the part, in the service’s own words', async () => {
    const path = await sut.http.get('/v1/cases/%ZZ').set(bearer('finance')).expect(400);
    expect(path.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'path: a parameter is not valid percent-encoding',
      details: [{ field: 'path', reason: 'a parameter is not valid percent-encoding' }],
    });
    const before = await rowCounts();
    // zstd where this Node decompresses it (23.8 and later); each codec's errors have codes of their own.
    for (const encoding of ['gzip', 'deflate', 'br', ...('zstdDecompress' in zlib ? ['zstd'] : [])]) {
      const corrupt = await sut.http
        .post('/v1/events')
        .set({ ...bearer('ingest'), 'Content-Type': 'application/json', 'Content-Encoding': encoding })
        .send(Buffer.from('{"this is": "not compressed at all"}'));
      expect({ encoding, status: corrupt.status }).toEqual({ encoding, status: 400 });
      expect(corrupt.body.details).toEqual([{ field: 'body', reason: expect.any(String) }]);
      expect(JSON.stringify(corrupt.body)).not.toMatch(/header check|zlib|Z_|ZSTD|frame|BROTLI|PADDING/i);
    }
    expect(await rowCounts()).toEqual(before);
  });

  it('a __proto__ key is refused, not dropped, in events and in other bodies', async () => {
    const before = await rowCounts();
    const event = JSON.stringify(overdueEvent()).replace('"data":{', '"data":{"__proto__":{"polluted":true},');
    const refused = await post(event).expect(400);
    expect(refused.body.message).toContain('data.__proto__: is not a field');
    const batch = await sut.http
      .post('/v1/batches')
      .set({ ...bearer('finance'), 'Content-Type': 'application/json', 'Idempotency-Key': 'proto-1' })
      .send('{"__proto__":{"x":1},"kind":"dunning-run","asOf":"2026-12-01"}')
      .expect(400);
    expect(batch.body.message).toContain('__proto__: is not a field');
    expect(await rowCounts()).toEqual(before);
  });

  it('a NUL in a query or a body outside events is a 400 naming the field, never a database error', async () => {
    const query = await sut.http.get('/v1/cases?segment=a%00b').set(bearer('finance')).expect(400);
    expect(query.body.message).toContain('must not contain NUL or unpaired surrogate characters');
    expect(query.body.details).toEqual([expect.objectContaining({ field: expect.stringContaining('segment') })]);
  });

  it('a time zone PostgreSQL does not know is refused at the door, so it can never break a read', async () => {
    const before = await rowCounts();
    const refused = await post(overdueEvent({ debtor: { timezone: 'US/Pacific-New' } })).expect(400);
    expect(refused.body.message).toContain('data.debtor.timezone: must be an IANA time zone that PostgreSQL knows');
    expect(await rowCounts()).toEqual(before);
    await sut.http.get('/v1/cases?stage=early&limit=5').set(bearer('finance')).expect(200);
  });

  it('a failure the service did not foresee on one event of a batch rolls back that event alone, answered as rejected', async () => {
    // An injected fault: the database refuses this one invoice, as a broken stored value might.
    await sut.db.query(`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.external_id = 'INV-BOOM' THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$`);
    await sut.db.query('CREATE TRIGGER refuse_boom BEFORE INSERT ON invoices FOR EACH ROW EXECUTE FUNCTION refuse_boom()');
    try {
      const before = await rowCounts();
      const good = overdueEvent();
      const boom = overdueEvent({ invoice: { externalId: 'INV-BOOM' } });
      const response = await sut.http
        .post('/v1/events')
        .set(bearer('ingest'))
        .send({ events: [good, boom] })
        .expect(202);
      expect(response.body.results).toEqual([
        expect.objectContaining({ id: good.id, status: 'accepted' }),
        { id: boom.id, status: 'rejected', code: 'internal', error: expect.stringMatching(/^internal: .*changed nothing/) },
      ]);
      // The good event's case and nothing of the failed one.
      const after = await rowCounts();
      expect(Number(after.cases) - Number(before.cases)).toBe(1);
      expect(Number(after.invoices) - Number(before.invoices)).toBe(1);
      expect(Number(after.events) - Number(before.events)).toBe(1);
      // Alone, it is the service's error, not a 4xx blaming the client.
      await sut.http
        .post('/v1/events')
        .set(bearer('ingest'))
        .send(overdueEvent({ invoice: { externalId: 'INV-BOOM' } }))
        .expect(500);
    } finally {
      await sut.db.query('DROP TRIGGER refuse_boom ON invoices; DROP FUNCTION refuse_boom()');
    }
  });
});

describe('headers and the body limit before authentication', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await startTestApp('headers', 3);
  });

  afterAll(async () => {
    await sut?.close();
  });

  it('sends no framework banner, no sniffing, and no caching of API reads', async () => {
    const response = await sut.http.get('/v1/cases?limit=1').set(bearer('finance')).expect(200);
    expect(response.headers['x-powered-by']).toBeUndefined();
    // The dashboard is an Express app of its own, mounted in the service's.
    const board = await sut.http.get('/admin/queues/api/queues').auth('admin-key', KEYS.admin).expect(200);
    expect(board.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('keeps the HTML pages from being framed and their links from leaking the address', async () => {
    const page = await sut.http.get('/v1/unsubscribe/not-a-token');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    const docs = await sut.http.get('/docs');
    expect(docs.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('refuses a large body from a caller without a key before parsing it, and parses it for one with a key', async () => {
    const big = JSON.stringify({ events: Array.from({ length: 400 }, () => overdueEvent()) });
    expect(big.length).toBeGreaterThan(64 * 1024);
    const anonymous = await sut.http.post('/v1/events').set('Content-Type', 'application/json').send(big).expect(401);
    expect(anonymous.body.message).toContain('an API key is required');
    const forged = await sut.http.post('/v1/events').set({ Authorization: 'Bearer not-a-key', 'Content-Type': 'application/json' }).send(big);
    expect(forged.status).toBe(401);
    expect(forged.body.message).toMatch(/^unknown API key/);
    // The guard says the same for a small body: a missing key and a wrong one are told apart.
    expect((await sut.http.get('/v1/cases').set({ Authorization: 'Bearer not-a-key' }).expect(401)).body.message).toMatch(/^unknown API key/);
    expect((await sut.http.get('/v1/cases').expect(401)).body.message).toMatch(/^an API key is required/);
    const keyed = await sut.http
      .post('/v1/events')
      .set({ ...bearer('ingest'), 'Content-Type': 'application/json' })
      .send(big);
    expect(keyed.status).toBe(202);
    expect(keyed.body.results).toHaveLength(400);
  });
});
