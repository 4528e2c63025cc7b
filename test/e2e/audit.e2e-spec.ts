import { AuditService } from '../../src/audit/audit.service';
import { EvidencePartitions } from '../../src/audit/evidence-partitions.service';
import { FixedClock } from '../support/fixed-clock';
import { bearer, overdueEvent, paymentEvent, startTestApp, type TestApp } from '../support/test-app';

describe('the audit trail is append-only and verifiable', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await startTestApp('audit', 4, { RETENTION_TOUCHES: 'P5Y' });
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

    const [victim] = await sut.db.query(`SELECT id, seq, data FROM touches WHERE case_id = $1 AND kind = 'payment.applied'`, [caseId]);
    await sut.db.query('ALTER TABLE touches DISABLE TRIGGER touches_append_only');
    try {
      await sut.db.query(`UPDATE touches SET data = jsonb_set(data, '{amount}', '"1.00"') WHERE id = $1`, [victim.id]);
    } finally {
      await sut.db.query('ALTER TABLE touches ENABLE TRIGGER touches_append_only');
    }
    const broken = await verify();
    expect(broken).toMatchObject({ ok: false, brokenAt: { caseId, seq: victim.seq, touchId: victim.id, reason: 'hash mismatch' } });
    // Put the touch back, so that the later tests start from a trail that verifies.
    await sut.db.query('ALTER TABLE touches DISABLE TRIGGER touches_append_only');
    try {
      await sut.db.query(`UPDATE touches SET data = $2 WHERE id = $1`, [victim.id, victim.data]);
    } finally {
      await sut.db.query('ALTER TABLE touches ENABLE TRIGGER touches_append_only');
    }
    expect(await verify()).toMatchObject({ ok: true });
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

  it('runs retention as an administrator only, below the legal minimum never, and detaches a month once an export with a seal is out', async () => {
    const retention = (body: object, role: 'admin' | 'auditor' = 'admin') => sut.http.post('/v1/audit/retention').set(bearer(role)).send(body);
    const detach = { table: 'touches', mode: 'detach', note: 'ticket LEGAL-7' };
    const clock = FixedClock.install(sut.app, new Date('2019-06-15T12:00:00Z'));
    try {
      await sut.app.get(EvidencePartitions).createAhead();
      const event = { ...overdueEvent({ invoice: { dueDate: '2099-06-30' } }), occurredAt: '2019-06-15T11:00:00Z' };
      const opened = await sut.http.post('/v1/events').set(bearer('ingest')).send(event).expect(202);
      const caseId: string = opened.body.results[0].caseId;
      expect(caseId).toBeDefined();
      await sut.app.get(AuditService).seal();

      clock.restore();
      FixedClock.install(sut.app, new Date('2024-12-01T00:00:00Z'));
      await retention(detach, 'auditor').expect(403);
      const bad = await retention({ table: 'letters', mode: 'shred', note: '' }).expect(400);
      expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['body.mode', 'body.note', 'body.table']);
      const early = await retention({ ...detach, before: '2020-01-01' }).expect(400);
      expect(early.body.details).toEqual([
        { field: 'body.before', reason: 'keeps less than the legal minimum P5Y (RETENTION_LEGAL_MINIMUM): must be on or before 2019-12-01T00:00:00.000Z' },
      ]);
      const kept = await retention({ ...detach, table: 'dispatches' }).expect(422);
      expect(kept.body.details).toEqual([{ field: 'body.table', reason: 'RETENTION_DISPATCHES is keep: dispatches are kept forever' }]);
      const unexported = await retention(detach).expect(422);
      expect(unexported.body.message).toMatch(/no export of the whole trail from 2019-06-01/);

      // The sweep made June and the three months ahead: all four are past the cut-off.
      const exported = await sut.http.get('/v1/audit/export?from=2019-06-01&to=2019-10-01').set(bearer('auditor')).buffer(true).expect(200);
      expect(exported.headers['x-audit-seal']).toMatch(/^\d+ [0-9a-f]{64}$/);
      const done = await retention(detach);
      expect(done.body).toMatchObject({
        table: 'touches',
        mode: 'detach',
        partitions: ['touches_2019_06', 'touches_2019_07', 'touches_2019_08', 'touches_2019_09'],
      });
      expect(done.status).toBe(200);
      expect(done.body.anchoredCases).toBeGreaterThanOrEqual(1);
      expect(await sut.db.query(`SELECT count(*)::int AS n FROM touches WHERE case_id = $1`, [caseId])).toEqual([{ n: 0 }]);
      expect(await sut.db.query(`SELECT actor, note FROM retention_runs WHERE id = $1`, [done.body.runId])).toEqual([
        { actor: 'admin-key', note: 'ticket LEGAL-7' },
      ]);
      expect(await verify()).toMatchObject({ ok: true });
    } finally {
      clock.restore();
    }
  });
});
