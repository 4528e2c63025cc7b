import { randomUUID } from 'node:crypto';
import { AuditService } from '../../../src/audit/audit.service';
import { CaseRepository } from '../../../src/cases/case.repository';
import { EscalationService } from '../../../src/escalations/escalation.service';
import { type NewPlacement, PlacementRepository } from '../../../src/escalations/placement.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

describe('PlacementRepository', () => {
  let ctx: IntegrationContext;
  let sut: PlacementRepository;
  const at = new Date('2026-03-10T08:00:00Z');
  const hours = (n: number) => new Date(at.getTime() + n * 3_600_000);

  beforeAll(async () => {
    ctx = await startIntegration('placement_repo');
    sut = ctx.get(PlacementRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  /** Places the case through insert (a pending webhook by default) and returns the placement. */
  async function place(caseId: string, overrides: Partial<NewPlacement> = {}): Promise<NewPlacement> {
    const placement: NewPlacement = {
      id: randomUUID(),
      caseId,
      stepId: null,
      agency: 'Acme Collections',
      commissionRate: '0.2',
      reason: 'test',
      at,
      by: 'test',
      balanceMinor: 125000n,
      currency: 'EUR',
      webhook: 'pending',
      ...overrides,
    };
    await ctx.tx((tx) => sut.insert(tx, placement));
    return placement;
  }

  const placed = async (overrides: Partial<NewPlacement> = {}) => place((await newCase(ctx)).caseId, overrides);
  const status = async (id: string) => {
    const { webhookStatus, webhookAttempts, webhookLastError, notifiedAt } = (await sut.get(id))!;
    return { webhookStatus, webhookAttempts, webhookLastError, notifiedAt };
  };

  it('ofCase finds nothing before insert, then the case’s placement with its webhook state; a case is placed once', async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const other = await newCase(ctx);
    expect(await ctx.tx((tx) => sut.ofCase(tx, caseId))).toBeUndefined();
    const placement = await place(caseId, { stepId: stepIds[0]! });
    expect(await ctx.tx((tx) => sut.ofCase(tx, caseId))).toEqual({ id: placement.id, webhookStatus: 'pending' });
    expect(await ctx.tx((tx) => sut.ofCase(tx, other.caseId))).toBeUndefined();
    await expect(place(caseId)).rejects.toThrow(/duplicate key/);
    const none = await place(other.caseId, { webhook: 'none' });
    expect(await ctx.tx((tx) => sut.ofCase(tx, other.caseId))).toEqual({ id: none.id, webhookStatus: 'none' });
  });

  it('get shows the placement with the case’s invoice and debtor', async () => {
    const debtor = { phone: '+49 30 1234567', address: { line1: 'Hauptstr. 1', city: 'Berlin', country: 'DE' } };
    const { caseId, stepIds, data } = await newCase(ctx, { debtor, invoice: { contractRef: 'CTR-77', dueDate: '2026-02-15' } });
    const placement = await place(caseId, { stepId: stepIds[0]!, agency: 'Inkasso GmbH', commissionRate: '0.15', reason: 'late stage', by: 'operator' });
    expect(await sut.get(placement.id)).toEqual({
      id: placement.id,
      caseId,
      stepId: stepIds[0],
      agency: 'Inkasso GmbH',
      commissionRate: '0.1500',
      reason: 'late stage',
      placedAt: at,
      placedBy: 'operator',
      balanceMinor: '125000',
      currency: 'EUR',
      webhookStatus: 'pending',
      webhookAttempts: 0,
      webhookLastError: null,
      notifiedAt: null,
      invoiceRef: data.invoice.externalId,
      contractRef: 'CTR-77',
      dueDate: '2026-02-15',
      debtor: { externalId: data.debtor.externalId, name: data.debtor.name, email: data.debtor.email, phone: debtor.phone, address: debtor.address },
    });
    expect(await sut.get(randomUUID())).toBeUndefined();
  });

  it('get dates an invoice due at an instant on the debtor’s calendar, and keeps a due date as given', async () => {
    const dueDateOf = async (dueDate: string, timezone: string) => {
      const { caseId } = await newCase(ctx, { invoice: { dueDate }, debtor: { timezone } });
      return (await sut.get((await place(caseId)).id))!.dueDate;
    };
    expect(await dueDateOf('2026-03-01T23:30:00Z', 'Europe/Berlin')).toBe('2026-03-02');
    expect(await dueDateOf('2026-03-02T03:00:00Z', 'America/New_York')).toBe('2026-03-01');
    expect(await dueDateOf('2026-03-01T23:30:00Z', 'UTC')).toBe('2026-03-01');
    expect(await dueDateOf('2026-03-01', 'Pacific/Kiritimati')).toBe('2026-03-01');
  });

  it('a placement made by EscalationService is stored with the case’s balance and no webhook when none is configured', async () => {
    const { caseId } = await newCase(ctx, { invoice: { amountDue: '99.99' } });
    const placementId = await ctx.tx(async (tx) => {
      const kase = (await ctx.get(CaseRepository).lock(tx, caseId))!;
      const escalation = await ctx.get(EscalationService).escalate(tx, kase, 'agency', 'operator', { reason: 'no contact' });
      await ctx.get(AuditService).record(tx, caseId, escalation.touches);
      return escalation.target.placementId!;
    });
    expect(await sut.get(placementId)).toMatchObject({
      caseId,
      agency: 'Collection agency',
      commissionRate: '0.2500',
      reason: 'no contact',
      placedBy: 'operator',
      balanceMinor: '9999',
      currency: 'EUR',
      webhookStatus: 'none',
    });
    expect(await sut.pendingIds(1000)).not.toContain(placementId);
  });

  describe('list', () => {
    const agency = `Agency ${randomUUID()}`;
    let placements: NewPlacement[];
    const ids = (rows: { id: string }[]) => rows.map((row) => row.id);

    beforeAll(async () => {
      placements = [];
      for (const n of [0, 1, 2]) placements.push(await placed({ agency, at: hours(n) }));
      await placed({ agency: `Other ${agency}`, at: hours(1) });
    });

    it('lists an agency’s placements oldest first', async () => {
      const rows = await sut.list({ agency, limit: 100 });
      expect(ids(rows)).toEqual(ids(placements));
      expect(rows.every((row) => row.agency === agency)).toBe(true);
      expect(await sut.list({ agency: `None ${agency}`, limit: 100 })).toEqual([]);
    });

    it('keeps placements made at or after since', async () => {
      expect(ids(await sut.list({ agency, since: hours(1), limit: 100 }))).toEqual(ids(placements.slice(1)));
      expect(ids(await sut.list({ agency, since: new Date(hours(1).getTime() + 1), limit: 100 }))).toEqual([placements[2]!.id]);
      const all = await sut.list({ since: hours(2), limit: 1000 });
      expect(ids(all)).toContain(placements[2]!.id);
      expect(all.every((row) => row.placedAt >= hours(2))).toBe(true);
    });

    it('pages after a keyset position, at most limit rows', async () => {
      const [first, second, third] = placements as [NewPlacement, NewPlacement, NewPlacement];
      expect(ids(await sut.list({ agency, limit: 2 }))).toEqual([first.id, second.id]);
      expect(ids(await sut.list({ agency, after: { placedAt: first.at.toISOString(), id: first.id }, limit: 100 }))).toEqual([second.id, third.id]);
      expect(ids(await sut.list({ agency, after: { placedAt: first.at.toISOString(), id: first.id }, limit: 1 }))).toEqual([second.id]);
      expect(await sut.list({ agency, after: { placedAt: third.at.toISOString(), id: third.id }, limit: 100 })).toEqual([]);
    });
  });

  it('pendingIds names the placements whose webhook is pending, oldest first, at most limit', async () => {
    // Earlier than every other placement of this suite, so they lead the queue.
    const oldest = await placed({ at: new Date('1999-01-01T00:00:00Z') });
    const older = await placed({ at: new Date('2000-01-01T00:00:00Z') });
    const none = await placed({ webhook: 'none', at: new Date('1998-01-01T00:00:00Z') });
    expect(await sut.pendingIds(2)).toEqual([oldest.id, older.id]);
    expect(await sut.pendingIds(1)).toEqual([oldest.id]);
    await ctx.tx((tx) => sut.markSent(tx, oldest.id, at));
    await sut.markFailed(older.id, 'HTTP 500', true);
    const pending = await sut.pendingIds(1000);
    expect(pending).not.toContain(oldest.id);
    expect(pending).not.toContain(older.id);
    expect(pending).not.toContain(none.id);
  });

  it('markSent marks the webhook sent and counts the attempt once; again it answers undefined and changes nothing', async () => {
    const placement = await placed();
    expect(await ctx.tx((tx) => sut.markSent(tx, placement.id, hours(1)))).toBe(1);
    expect(await status(placement.id)).toEqual({ webhookStatus: 'sent', webhookAttempts: 1, webhookLastError: null, notifiedAt: hours(1) });
    expect(await ctx.tx((tx) => sut.markSent(tx, placement.id, hours(2)))).toBeUndefined();
    expect(await status(placement.id)).toEqual({ webhookStatus: 'sent', webhookAttempts: 1, webhookLastError: null, notifiedAt: hours(1) });
    expect(await ctx.tx((tx) => sut.ofCase(tx, placement.caseId))).toEqual({ id: placement.id, webhookStatus: 'sent' });
    expect(await ctx.tx((tx) => sut.markSent(tx, randomUUID(), at))).toBeUndefined();
  });

  it('markSent after failed attempts counts them all and clears the last error', async () => {
    const placement = await placed();
    await sut.markFailed(placement.id, 'HTTP 503', false);
    expect(await ctx.tx((tx) => sut.markSent(tx, placement.id, hours(3)))).toBe(2);
    expect(await status(placement.id)).toEqual({ webhookStatus: 'sent', webhookAttempts: 2, webhookLastError: null, notifiedAt: hours(3) });
  });

  it('markFailed counts an attempt and keeps the error; final marks the webhook failed', async () => {
    const placement = await placed();
    await sut.markFailed(placement.id, 'HTTP 502', false);
    expect(await status(placement.id)).toEqual({ webhookStatus: 'pending', webhookAttempts: 1, webhookLastError: 'HTTP 502', notifiedAt: null });
    expect(await sut.pendingIds(1000)).toContain(placement.id);
    await sut.markFailed(placement.id, 'connection refused', true);
    expect(await status(placement.id)).toEqual({ webhookStatus: 'failed', webhookAttempts: 2, webhookLastError: 'connection refused', notifiedAt: null });
    expect(await sut.pendingIds(1000)).not.toContain(placement.id);
  });

  it('markFailed never touches a webhook that was sent', async () => {
    const placement = await placed();
    await ctx.tx((tx) => sut.markSent(tx, placement.id, hours(1)));
    await sut.markFailed(placement.id, 'late timeout', true);
    expect(await status(placement.id)).toEqual({ webhookStatus: 'sent', webhookAttempts: 1, webhookLastError: null, notifiedAt: hours(1) });
  });

  it('caseIds maps the placements that exist to their cases', async () => {
    const [a, b] = [await placed(), await placed()];
    const missing = randomUUID();
    expect(await sut.caseIds([a.id, b.id, missing])).toEqual(
      new Map([
        [a.id, a.caseId],
        [b.id, b.caseId],
      ]),
    );
    expect(await sut.caseIds([])).toEqual(new Map());
  });
});
