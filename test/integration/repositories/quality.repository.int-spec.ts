import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../../../src/audit/audit.service';
import type { Tx } from '../../../src/database/transactions';
import type { ContactRecord } from '../../../src/domain/quality';
import { QualityRepository, type ScoringState } from '../../../src/quality/quality.repository';
import { nextState } from '../../../src/domain/touch-watermark';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';
import { waitFor } from '../../support/wait-for';

describe('QualityRepository', () => {
  let ctx: IntegrationContext;
  let sut: QualityRepository;
  const at = new Date('2026-03-10T08:00:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('quality_repo');
    sut = ctx.get(QualityRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  const contact = (overrides: Partial<ContactRecord> = {}): ContactRecord => ({
    contactId: randomUUID(),
    channel: 'call',
    direction: 'outbound',
    party: 'debtor',
    outcome: 'right-party-contact',
    startedAt: '2026-03-10T07:30:00.000Z',
    durationSeconds: 60,
    notes: 'Spoke with the debtor.',
    ...overrides,
  });

  /** Records a contact touch on the case in `tx` (or its own transaction) and answers the touch id. */
  async function recordContact(caseId: string, data: ContactRecord = contact(), tx?: Tx): Promise<string> {
    const write = async (inTx: Tx) => {
      await ctx.get(AuditService).record(inTx, caseId, [{ kind: 'contact.recorded', actor: 'collector-key', channel: data.channel, data: { ...data } }]);
    };
    if (tx) await write(tx);
    else await ctx.tx(write);
    return idOf(caseId, 'contact.recorded', data.contactId);
  }

  async function idOf(caseId: string, kind: string, contactId?: string): Promise<string> {
    const rows: { id: string }[] = await ctx
      .get(DataSource)
      .query(`SELECT id::text AS id FROM touches WHERE case_id = $1 AND kind = $2 AND ($3::text IS NULL OR data->>'contactId' = $3) ORDER BY id DESC LIMIT 1`, [
        caseId,
        kind,
        contactId ?? null,
      ]);
    return rows[0]!.id;
  }

  const candidates = (state: ScoringState) => ctx.tx((tx) => sut.contactCandidates(tx, state, 500));

  it('answers unscored contacts after the watermark with their case and debtor, and scores each once only', async () => {
    const { caseId, data } = await newCase(ctx, { debtor: { timezone: 'Asia/Shanghai', address: { line1: 'x', city: 'Shanghai', country: 'cn' } } });
    const touchId = await recordContact(caseId);
    const state = await ctx.tx((tx) => sut.state(tx));
    expect(state).toEqual({ watermark: '0', pendingLimit: '0', pendingXid: null });

    const read = await candidates(state);
    expect(read.settled).toBe(true);
    expect(BigInt(read.sequence)).toBeGreaterThanOrEqual(BigInt(touchId));
    expect(read.touches.find((touch) => touch.id === touchId)).toMatchObject({
      caseId,
      kind: 'contact.recorded',
      actor: 'collector-key',
      channel: 'call',
      timezone: 'Asia/Shanghai',
      country: 'CN',
      debtorName: data.debtor.name,
      invoiceRef: data.invoice.externalId,
      policy: 'quiet',
    });

    const score = { touchId, caseId, score: 0, autofailed: true };
    expect(await ctx.tx((tx) => sut.markScored(tx, [score], at))).toEqual(new Set([touchId]));
    expect(await ctx.tx((tx) => sut.markScored(tx, [score], at))).toEqual(new Set());
    expect((await candidates(state)).touches.map((touch) => touch.id)).not.toContain(touchId);
    // After the watermark nothing below it is read again, scored or not.
    const past = await recordContact(caseId);
    expect((await candidates({ ...state, watermark: past })).touches.map((touch) => touch.id)).not.toContain(past);
  });

  it('is not settled while a transaction that was open at the pending read is still open, and sees its touch once it commits', async () => {
    const { caseId } = await newCase(ctx);
    let commit!: () => void;
    const gate = new Promise<void>((resolve) => (commit = resolve));
    let written!: () => void;
    const inserted = new Promise<void>((resolve) => (written = resolve));
    const data = contact();
    const open = ctx.tx(async (tx) => {
      await ctx.get(AuditService).record(tx, caseId, [{ kind: 'contact.recorded', actor: 'collector-key', channel: 'call', data: { ...data } }]);
      written();
      await gate;
    });
    await inserted;
    const first = await candidates({ watermark: '0', pendingLimit: '0', pendingXid: null });
    const pending = nextState({ watermark: '0', pendingLimit: '0', pendingXid: null }, { ...first, full: false, lastId: undefined });
    const whileOpen = await candidates(pending);
    expect(whileOpen.settled).toBe(false);
    expect(nextState(pending, { ...whileOpen, full: false, lastId: undefined })).toEqual(pending);
    commit();
    await open;
    // Transaction ids are the cluster's: other databases' open transactions (suites running beside
    // this one) hold the snapshot back too, so settling is awaited rather than read once.
    const afterCommit = await waitFor('the pending read to settle', async () => {
      const read = await candidates(pending);
      return read.settled ? read : null;
    });
    const touchId = await idOf(caseId, 'contact.recorded', data.contactId);
    expect(afterCommit.touches.map((touch) => touch.id)).toContain(touchId);
    expect(BigInt(touchId)).toBeLessThanOrEqual(BigInt(pending.pendingLimit));
  });

  it('stores the state', async () => {
    await ctx.tx(async (tx) => {
      const state = await sut.state(tx);
      await sut.saveState(tx, { watermark: '5', pendingLimit: '9', pendingXid: '1234' });
      expect(await sut.state(tx)).toEqual({ watermark: '5', pendingLimit: '9', pendingXid: '1234' });
      await sut.saveState(tx, state);
    });
  });

  it('answers promises due by a date, earliest first, unscored only', async () => {
    const { caseId } = await newCase(ctx);
    const record = (dueDate: string) =>
      ctx.tx((tx) =>
        ctx
          .get(AuditService)
          .record(tx, caseId, [{ kind: 'promise.recorded', actor: 'operator-key', data: { promiseId: randomUUID(), dueDate, amount: '10.00' } }]),
      );
    await record('2026-03-05');
    await record('2026-03-01');
    await record('2026-03-09');
    const due = await ctx.tx((tx) => sut.promiseCandidates(tx, null, '2026-03-06', 10));
    const mine = due.filter((touch) => touch.caseId === caseId);
    expect(mine.map((touch) => touch.data.dueDate)).toEqual(['2026-03-01', '2026-03-05']);
    await ctx.tx((tx) => sut.markScored(tx, [{ touchId: mine[0]!.id, caseId, score: 100, autofailed: false }], at));
    const again = (await ctx.tx((tx) => sut.promiseCandidates(tx, null, '2026-03-06', 10))).filter((touch) => touch.caseId === caseId);
    expect(again.map((touch) => touch.data.dueDate)).toEqual(['2026-03-05']);
    // Promises due by a day already judged are not read again.
    expect((await ctx.tx((tx) => sut.promiseCandidates(tx, '2026-03-05', '2026-03-10', 10))).filter((touch) => touch.caseId === caseId)).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ dueDate: '2026-03-09' }) }),
    ]);
  });

  it('keeps the day up to which promises are judged, never moving it back', async () => {
    expect(await ctx.tx((tx) => sut.promisesThrough(tx))).toBeNull();
    await ctx.tx((tx) => sut.savePromisesThrough(tx, '2026-03-04'));
    await ctx.tx((tx) => sut.savePromisesThrough(tx, '2026-03-01'));
    expect(await ctx.tx((tx) => sut.promisesThrough(tx))).toBe('2026-03-04');
  });

  it("reads a case's trail of contacts, holds and promises, and a debtor's outbound contacts on every case", async () => {
    const first = await newCase(ctx);
    const second = await newCase(ctx, { debtor: { externalId: first.data.debtor.externalId } });
    const outbound = await recordContact(first.caseId, contact({ startedAt: '2026-03-10T07:00:00.000Z' }));
    await recordContact(second.caseId, contact({ direction: 'inbound' }));
    const other = await recordContact(second.caseId, contact({ channel: 'visit' }));
    await ctx.tx((tx) => ctx.get(AuditService).record(tx, first.caseId, [{ kind: 'fee.assessed', actor: 'system', data: {} }]));

    const trails = await ctx.tx((tx) => sut.trails(tx, [first.caseId, second.caseId]));
    expect(trails.get(first.caseId)!.map((touch) => touch.kind)).toEqual(['contact.recorded']);
    expect(trails.get(second.caseId)!.map((touch) => touch.kind)).toEqual(['contact.recorded', 'contact.recorded']);

    const debtorId: string = (await ctx.get(DataSource).query('SELECT debtor_id FROM cases WHERE id = $1', [first.caseId]))[0].debtor_id;
    const contacts = await ctx.tx((tx) => sut.debtorContacts(tx, [debtorId], new Date('2026-03-01T00:00:00Z')));
    expect(contacts.get(debtorId)!.map((entry) => [entry.ref, entry.channel, entry.at.toISOString()])).toEqual(
      expect.arrayContaining([
        [outbound, 'call', '2026-03-10T07:00:00.000Z'],
        [other, 'visit', '2026-03-10T07:30:00.000Z'],
      ]),
    );
    expect(contacts.get(debtorId)).toHaveLength(2);
    expect((await sut.contacts(first.caseId)).map((row) => row.id)).toEqual([outbound]);
    const data = contact();
    await recordContact(first.caseId, data);
    await ctx.tx(async (tx) => {
      expect(await sut.contact(tx, first.caseId, data.contactId)).toEqual({ actor: 'collector-key', data: { ...data } });
      expect(await sut.contact(tx, second.caseId, data.contactId)).toBeUndefined();
    });
  });

  it('keeps findings: one per touch and rule, listed by filter with a keyset, reviewed and appealed', async () => {
    const { caseId } = await newCase(ctx);
    const touchId = await recordContact(caseId);
    await ctx.tx(async (tx) => {
      expect(await sut.lockCase(tx, caseId)).toBe(true);
      expect(await sut.lockCase(tx, randomUUID())).toBe(false);
      const finding = { caseId, touchId, ruleId: 'contact-hours', autofail: true, detail: 'outside 08:00–21:00' };
      await sut.insertFindings(tx, [finding, { ...finding, ruleId: 'record-complete', autofail: false }], at);
      await sut.insertFindings(tx, [finding], at);
    });
    expect(await sut.caseExists(caseId)).toBe(true);
    expect(await sut.caseExists(randomUUID())).toBe(false);

    const all = await sut.listFindings({ caseId, limit: 10 });
    expect(all.map((finding) => finding.ruleId).sort()).toEqual(['contact-hours', 'record-complete']);
    expect(all[0]).toMatchObject({ caseId, touchId, touchKind: 'contact.recorded', collector: 'collector-key', status: 'open' });
    const [first] = await sut.listFindings({ caseId, limit: 1 });
    const rest = await sut.listFindings({ caseId, limit: 10, after: { createdAt: new Date(first!.createdAt).toISOString(), id: first!.id } });
    expect(rest.map((finding) => finding.id)).toEqual(all.filter((finding) => finding.id !== first!.id).map((finding) => finding.id));
    expect(await sut.listFindings({ caseId, ruleId: 'contact-hours', collector: 'collector-key', status: 'open', limit: 10 })).toHaveLength(1);
    expect(await sut.listFindings({ caseId, collector: 'someone-else', limit: 10 })).toHaveLength(0);

    const hours = all.find((finding) => finding.ruleId === 'contact-hours')!;
    await ctx.tx(async (tx) => {
      expect(await sut.caseOfFinding(tx, hours.id)).toBe(caseId);
      expect(await sut.caseOfFinding(tx, randomUUID())).toBeUndefined();
      expect(await sut.lockFinding(tx, hours.id)).toMatchObject({ id: hours.id, status: 'open' });
      await sut.appeal(tx, hours.id);
      expect((await sut.finding(tx, hours.id))!.status).toBe('appealed');
      await sut.review(tx, hours.id, 'overturned', 'qa-key', 'called at the debtor’s request', at);
    });
    expect(await sut.finding(undefined, hours.id)).toMatchObject({
      status: 'overturned',
      reviewer: 'qa-key',
      reviewNote: 'called at the debtor’s request',
      reviewedAt: at,
    });
  });
});
