import { AuditService } from '../../src/audit/audit.service';
import { bearer, overdueEvent, paymentEvent, startTestApp, type TestApp } from '../support/test-app';

describe('the audit trail is append-only and verifiable', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await startTestApp('audit', 4);
  });

  afterAll(async () => {
    await sut?.close();
  });

  async function openCase(): Promise<string> {
    const event = overdueEvent({ invoice: { dueDate: '2099-06-30' } });
    await sut.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
    const paid = await sut.http.post('/v1/events').set(bearer('ingest')).send(paymentEvent(event.data.invoice.externalId, '100.00')).expect(202);
    return paid.body.results[0].caseId;
  }

  const verify = async () => (await sut.http.get('/v1/audit/verify').set(bearer('auditor')).expect(200)).body;

  it('refuses UPDATE and DELETE on touches', async () => {
    const caseId = await openCase();
    await expect(sut.db.query(`UPDATE touches SET actor = 'someone else' WHERE case_id = $1`, [caseId])).rejects.toThrow(/append-only/);
    await expect(sut.db.query(`DELETE FROM touches WHERE case_id = $1`, [caseId])).rejects.toThrow(/append-only/);
    await expect(sut.db.query(`TRUNCATE touches CASCADE`)).rejects.toThrow(/append-only/);
  });

  it('verifies chains and seals, and finds a touch edited behind the trigger’s back', async () => {
    const caseId = await openCase();
    await openCase();
    expect(await sut.app.get(AuditService).seal()).toBeGreaterThanOrEqual(2);
    const clean = await verify();
    expect(clean).toMatchObject({ ok: true, seals: 1 });
    expect(clean.checked).toBeGreaterThanOrEqual(10);

    const [victim] = await sut.db.query(`SELECT id, seq FROM touches WHERE case_id = $1 AND kind = 'payment.applied'`, [caseId]);
    await sut.db.query('ALTER TABLE touches DISABLE TRIGGER touches_append_only');
    try {
      await sut.db.query(`UPDATE touches SET data = jsonb_set(data, '{amount}', '"1.00"') WHERE id = $1`, [victim.id]);
    } finally {
      await sut.db.query('ALTER TABLE touches ENABLE TRIGGER touches_append_only');
    }
    const broken = await verify();
    expect(broken).toMatchObject({ ok: false, brokenAt: { caseId, seq: victim.seq, touchId: victim.id, reason: 'hash mismatch' } });
  });

  it('exports the trail as NDJSON and CSV, oldest first, by time and case', async () => {
    const caseId = await openCase();
    const since = new Date(Date.now() - 3600_000).toISOString();
    const download = (query: string, role: 'auditor' | 'operator' = 'auditor') =>
      sut.http
        .get(`/v1/audit/export?${query}`)
        .set(bearer(role))
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () => done(null, text));
        });
    const ndjson = await download(`from=${encodeURIComponent(since)}&caseId=${caseId}`).expect(200);
    expect(ndjson.headers['content-type']).toContain('application/x-ndjson');
    const lines = (ndjson.body as string)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const trail = (await sut.http.get(`/v1/cases/${caseId}/touches?limit=500`).set(bearer('auditor')).expect(200)).body.items;
    expect(lines.map((touch) => touch.hash)).toEqual(trail.map((touch: { hash: string }) => touch.hash));
    expect(lines[0]).toMatchObject({ caseId, seq: 1, kind: 'event.received' });

    const csv = await download(`from=${encodeURIComponent(since)}&caseId=${caseId}&format=csv`).expect(200);
    const rows = (csv.body as string).trim().split('\n');
    expect(rows[0]).toBe('id,caseId,seq,kind,at,actor,channel,data,prevHash,hash');
    expect(rows).toHaveLength(trail.length + 1);

    // Nothing before `from`, everything of the window across cases.
    const future = await download(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`).expect(200);
    expect(future.body).toBe('');
    const bad = await sut.http.get('/v1/audit/export?from=yesterday&format=xml').set(bearer('auditor')).expect(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['query.format', 'query.from']);
    await sut.http
      .get(`/v1/audit/export?from=${encodeURIComponent(since)}`)
      .set(bearer('operator'))
      .expect(403);
  });
});
