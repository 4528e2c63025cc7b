import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../../../src/audit/audit.service';
import { CaseRepository } from '../../../src/cases/case.repository';
import type { WorkItemKind } from '../../../src/domain/escalations';
import { EscalationService } from '../../../src/escalations/escalation.service';
import { WorkItemRepository } from '../../../src/escalations/work-item.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

describe('WorkItemRepository', () => {
  let ctx: IntegrationContext;
  let sut: WorkItemRepository;
  const at = new Date('2026-03-10T08:00:00Z');
  const minutes = (n: number) => new Date(at.getTime() + n * 60_000);

  beforeAll(async () => {
    ctx = await startIntegration('work_item_repo');
    sut = ctx.get(WorkItemRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  /** Inserts an open work item and returns its id. */
  async function insertItem(caseId: string, item: { stepId?: string | null; kind?: WorkItemKind; at?: Date; reason?: string } = {}): Promise<string> {
    const id = randomUUID();
    await ctx.tx((tx) =>
      sut.insert(tx, { id, caseId, stepId: item.stepId ?? null, kind: item.kind ?? 'collector', reason: item.reason ?? 'test', at: item.at ?? at, by: 'test' }),
    );
    return id;
  }

  const find = (caseId: string, stepId: string | null, kind: WorkItemKind) => ctx.tx((tx) => sut.findForEscalation(tx, caseId, stepId, kind));
  /** Claims the item (an open item cannot be done) and completes it. */
  const complete = (id: string, outcome: 'contacted' | 'filed' = 'contacted') =>
    ctx.tx(async (tx) => {
      if ((await sut.lock(tx, id))!.status === 'open') await sut.claim(tx, id, 'alice', minutes(30));
      await sut.complete(tx, id, { outcome, note: null, promise: null }, minutes(60));
    });

  /** Whether another connection finds the work item row locked (NOWAIT answers at once instead of waiting). */
  async function lockedElsewhere(id: string): Promise<boolean> {
    try {
      await ctx.get(DataSource).query('SELECT id FROM work_items WHERE id = $1 FOR UPDATE NOWAIT', [id]);
      return false;
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') return true;
      throw error;
    }
  }

  it('insert opens an item; get shows it with its case', async () => {
    const { caseId, data, stepIds } = await newCase(ctx, { invoice: { currency: 'USD', amountDue: '80.50', contractRef: 'CTR-9' } });
    const id = randomUUID();
    await ctx.tx((tx) => sut.insert(tx, { id, caseId, stepId: stepIds[0]!, kind: 'legal', reason: 'no contact for months', at, by: 'operator' }));
    expect(await sut.get(undefined, id)).toEqual({
      id,
      caseId,
      stepId: stepIds[0],
      kind: 'legal',
      status: 'open',
      assignee: null,
      reason: 'no contact for months',
      createdAt: at,
      createdBy: 'operator',
      claimedAt: null,
      outcome: null,
      note: null,
      promise: null,
      completedAt: null,
      case: {
        status: 'active',
        invoiceExternalId: data.invoice.externalId,
        contractRef: 'CTR-9',
        debtorExternalId: data.debtor.externalId,
        debtorName: data.debtor.name,
        currency: 'USD',
        balanceMinor: '8050',
      },
    });
    expect((await ctx.tx((tx) => sut.get(tx, id)))?.id).toBe(id);
    expect(await sut.get(undefined, randomUUID())).toBeUndefined();
  });

  it('findForEscalation finds nothing on a case without items, nor another case’s item', async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const other = await newCase(ctx);
    await insertItem(other.caseId, { stepId: other.stepIds[0]! });
    expect(await find(caseId, null, 'collector')).toBeUndefined();
    expect(await find(caseId, stepIds[0]!, 'collector')).toBeUndefined();
  });

  it('findForEscalation finds the case’s unfinished item of the kind, not one of another kind or one that is done', async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const collector = await insertItem(caseId, { kind: 'collector' });
    expect(await find(caseId, null, 'collector')).toBe(collector);
    expect(await find(caseId, stepIds[0]!, 'collector')).toBe(collector);
    expect(await find(caseId, null, 'legal')).toBeUndefined();
    await ctx.tx((tx) => sut.claim(tx, collector, 'alice', at));
    expect(await find(caseId, null, 'collector')).toBe(collector);
    await complete(collector);
    expect(await find(caseId, null, 'collector')).toBeUndefined();
  });

  it('findForEscalation prefers the item the step made, even a finished one, over an older unfinished item', async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const stepId = stepIds[0]!;
    const older = await insertItem(caseId, { kind: 'collector', at: minutes(0) });
    const ofStep = await insertItem(caseId, { kind: 'collector', stepId, at: minutes(5) });
    expect(await find(caseId, stepId, 'collector')).toBe(ofStep);
    expect(await find(caseId, null, 'collector')).toBe(older);
    await complete(ofStep);
    expect(await find(caseId, stepId, 'collector')).toBe(ofStep);
    expect(await find(caseId, stepId, 'legal')).toBe(ofStep);
  });

  it('findForEscalation takes the oldest of several unfinished items', async () => {
    const { caseId } = await newCase(ctx);
    const later = await insertItem(caseId, { kind: 'legal', at: minutes(10) });
    const earlier = await insertItem(caseId, { kind: 'legal', at: minutes(1) });
    expect(await find(caseId, null, 'legal')).toBe(earlier);
    await complete(earlier, 'filed');
    expect(await find(caseId, null, 'legal')).toBe(later);
  });

  it('an escalation stores its item through insert, and escalating again finds it instead of adding one', async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const escalate = (stepId?: string) =>
      ctx.tx(async (tx) => {
        const kase = (await ctx.get(CaseRepository).lock(tx, caseId))!;
        const escalation = await ctx.get(EscalationService).escalate(tx, kase, 'collector', 'system', { stepId });
        await ctx.get(AuditService).record(tx, caseId, escalation.touches);
        return escalation.target;
      });
    const first = await escalate(stepIds[0]);
    expect(first).toMatchObject({ to: 'collector', created: true });
    expect(await escalate(stepIds[0])).toEqual({ ...first, created: false });
    expect(await escalate()).toEqual({ ...first, created: false });
    expect(await sut.get(undefined, first.workItemId!)).toMatchObject({
      caseId,
      stepId: stepIds[0],
      kind: 'collector',
      status: 'open',
      reason: 'the ladder escalates the case to collector',
      createdBy: 'system',
      createdAt: at,
    });
    expect(await sut.list({ caseId, limit: 100 })).toHaveLength(1);
  });

  it('caseOf names the item’s case', async () => {
    const { caseId } = await newCase(ctx);
    const id = await insertItem(caseId);
    expect(await ctx.tx((tx) => sut.caseOf(tx, id))).toBe(caseId);
    expect(await ctx.tx((tx) => sut.caseOf(tx, randomUUID()))).toBeUndefined();
  });

  it('lock locks the item and reads it with the case’s currency and the debtor’s time zone', async () => {
    const { caseId } = await newCase(ctx, { invoice: { currency: 'CNY' }, debtor: { timezone: 'Asia/Shanghai' } });
    const id = await insertItem(caseId, { kind: 'legal' });
    await ctx.tx(async (tx) => {
      expect(await sut.lock(tx, id)).toEqual({
        id,
        caseId,
        kind: 'legal',
        status: 'open',
        assignee: null,
        outcome: null,
        note: null,
        promise: null,
        currency: 'CNY',
        timezone: 'Asia/Shanghai',
      });
      expect(await lockedElsewhere(id)).toBe(true);
    });
    expect(await lockedElsewhere(id)).toBe(false);
    expect(await ctx.tx((tx) => sut.lock(tx, randomUUID()))).toBeUndefined();
  });

  it('claim gives the item to an assignee at the given moment', async () => {
    const { caseId } = await newCase(ctx);
    const id = await insertItem(caseId);
    const other = await insertItem(caseId, { kind: 'legal' });
    await ctx.tx((tx) => sut.claim(tx, id, 'alice', minutes(3)));
    expect(await sut.get(undefined, id)).toMatchObject({ status: 'claimed', assignee: 'alice', claimedAt: minutes(3), completedAt: null });
    expect(await ctx.tx((tx) => sut.lock(tx, id))).toMatchObject({ status: 'claimed', assignee: 'alice' });
    expect(await sut.get(undefined, other)).toMatchObject({ status: 'open', assignee: null, claimedAt: null });
  });

  it('complete closes the item with its outcome, note and promise, keeping the assignee', async () => {
    const { caseId } = await newCase(ctx);
    const promised = await insertItem(caseId);
    const legal = await insertItem(caseId, { kind: 'legal' });
    const promise = { amount: '500.00', currency: 'EUR', dueDate: '2026-04-01' };
    await ctx.tx(async (tx) => {
      await sut.claim(tx, promised, 'alice', minutes(1));
      await sut.complete(tx, promised, { outcome: 'promised', note: 'will pay half', promise }, minutes(30));
      await sut.claim(tx, legal, 'bob', minutes(2));
      await sut.complete(tx, legal, { outcome: 'filed', note: null, promise: null }, minutes(40));
    });
    expect(await sut.get(undefined, promised)).toMatchObject({
      status: 'done',
      assignee: 'alice',
      claimedAt: minutes(1),
      outcome: 'promised',
      note: 'will pay half',
      promise,
      completedAt: minutes(30),
    });
    expect(await ctx.tx((tx) => sut.lock(tx, promised))).toMatchObject({ status: 'done', outcome: 'promised', note: 'will pay half', promise });
    expect(await sut.get(undefined, legal)).toMatchObject({
      status: 'done',
      assignee: 'bob',
      outcome: 'filed',
      note: null,
      promise: null,
      completedAt: minutes(40),
    });
  });

  describe('list', () => {
    let first: { caseId: string };
    let second: { caseId: string };
    let items: { open: string; claimed: string; done: string; legal: string; otherCase: string };
    const assignee = `alice-${randomUUID()}`;
    const ids = (rows: { id: string }[]) => rows.map((row) => row.id);

    beforeAll(async () => {
      first = await newCase(ctx);
      second = await newCase(ctx);
      const open = await insertItem(first.caseId, { at: minutes(100) });
      const claimed = await insertItem(first.caseId, { at: minutes(101) });
      const done = await insertItem(first.caseId, { at: minutes(102) });
      const legal = await insertItem(first.caseId, { kind: 'legal', at: minutes(103) });
      const otherCase = await insertItem(second.caseId, { at: minutes(104) });
      await ctx.tx(async (tx) => {
        await sut.claim(tx, claimed, assignee, minutes(110));
        await sut.claim(tx, done, assignee, minutes(111));
        await sut.complete(tx, done, { outcome: 'refused', note: null, promise: null }, minutes(112));
        await sut.claim(tx, otherCase, assignee, minutes(113));
      });
      items = { open, claimed, done, legal, otherCase };
    });

    it('lists a case’s items oldest first, each with its case', async () => {
      const rows = await sut.list({ caseId: first.caseId, limit: 100 });
      expect(ids(rows)).toEqual([items.open, items.claimed, items.done, items.legal]);
      expect(rows.every((row) => row.caseId === first.caseId && row.case.status === 'active')).toBe(true);
      expect(ids(await sut.list({ caseId: second.caseId, limit: 100 }))).toEqual([items.otherCase]);
    });

    it('filters by assignee, across cases', async () => {
      expect(ids(await sut.list({ assignee, limit: 100 }))).toEqual([items.claimed, items.done, items.otherCase]);
      expect(await sut.list({ assignee: `nobody-${randomUUID()}`, limit: 100 })).toEqual([]);
    });

    it('filters by status', async () => {
      expect(ids(await sut.list({ caseId: first.caseId, status: 'open', limit: 100 }))).toEqual([items.open, items.legal]);
      expect(ids(await sut.list({ caseId: first.caseId, status: 'claimed', limit: 100 }))).toEqual([items.claimed]);
      expect(ids(await sut.list({ assignee, status: 'done', limit: 100 }))).toEqual([items.done]);
      const open = await sut.list({ status: 'open', limit: 1000 });
      expect(ids(open)).toEqual(expect.arrayContaining([items.open, items.legal]));
      expect(open.every((row) => row.status === 'open')).toBe(true);
    });

    it('filters by kind', async () => {
      expect(ids(await sut.list({ caseId: first.caseId, kind: 'legal', limit: 100 }))).toEqual([items.legal]);
      expect(ids(await sut.list({ caseId: first.caseId, kind: 'collector', limit: 100 }))).toEqual([items.open, items.claimed, items.done]);
      expect(ids(await sut.list({ caseId: first.caseId, kind: 'collector', status: 'open', limit: 100 }))).toEqual([items.open]);
    });

    it('pages after a keyset position, at most limit rows', async () => {
      expect(ids(await sut.list({ caseId: first.caseId, limit: 2 }))).toEqual([items.open, items.claimed]);
      const after = { createdAt: minutes(101).toISOString(), id: items.claimed };
      expect(ids(await sut.list({ caseId: first.caseId, after, limit: 100 }))).toEqual([items.done, items.legal]);
      expect(ids(await sut.list({ assignee, after, limit: 1 }))).toEqual([items.done]);
      expect(await sut.list({ caseId: first.caseId, after: { createdAt: minutes(103).toISOString(), id: items.legal }, limit: 100 })).toEqual([]);
    });
  });
});
