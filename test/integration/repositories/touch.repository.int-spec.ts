import { randomUUID } from 'node:crypto';
import { AuditService } from '../../../src/audit/audit.service';
import { TouchRepository } from '../../../src/audit/touch.repository';
import { DispatchRepository } from '../../../src/channels/dispatch.repository';
import { LEGAL_TOUCH_KINDS } from '../../../src/domain/legal-record';
import { chainTouches, sealHash } from '../../../src/domain/touch-chain';
import type { TouchInput } from '../../../src/domain/touch-kinds';
import { StepRepository } from '../../../src/scheduling/step.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

const note = (n: number): TouchInput => ({ kind: 'debtor.updated', actor: 'test', data: { n } });

describe('TouchRepository and AuditService', () => {
  let ctx: IntegrationContext;
  let sut: TouchRepository;
  let audit: AuditService;
  const at = new Date('2026-03-10T08:00:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('touches');
    sut = ctx.get(TouchRepository);
    audit = ctx.get(AuditService);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  // Opening a case inserts its chain with the head already on the case row (TouchRepository.insert).
  it('a new case starts its chain with the opening touches, and its head names the last of them', async () => {
    const { caseId } = await newCase(ctx);
    const trail = await sut.caseTrail(caseId, 0, 100);
    expect(trail.map((touch) => touch.kind).slice(0, 2)).toEqual(['event.received', 'case.opened']);
    expect(trail.map((touch) => touch.seq)).toEqual(trail.map((_, i) => i + 1));
    const head = await sut.head(caseId);
    expect(head).toEqual({ seq: trail.length, hash: trail[trail.length - 1]!.hash });
    expect(await sut.head('00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });

  it('lockHead reads the head under the case lock; append adds rows and moves the head in one statement', async () => {
    const { caseId } = await newCase(ctx);
    await ctx.tx(async (tx) => {
      const head = (await sut.lockHead(tx, caseId))!;
      const chained = chainTouches(caseId, head, [note(1), note(2)], at);
      await sut.append(tx, caseId, chained.rows, chained.head);
    });
    const trail = await sut.caseTrail(caseId, 0, 100);
    expect(trail.slice(-2).map((touch) => touch.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await sut.head(caseId)).toEqual({ seq: trail.length, hash: trail[trail.length - 1]!.hash });
    expect(await ctx.tx((tx) => sut.lockHead(tx, '00000000-0000-0000-0000-000000000000'))).toBeUndefined();
  });

  it('lockHeads and appendMany append to several cases at once; recordMany does both', async () => {
    const [a, b] = [await newCase(ctx), await newCase(ctx)];
    await ctx.tx(async (tx) => {
      const heads = await sut.lockHeads(tx, [a.caseId, b.caseId]);
      expect([...heads.keys()].sort()).toEqual([a.caseId, b.caseId].sort());
      await sut.appendMany(
        tx,
        [a, b].map(({ caseId }) => ({ caseId, ...chainTouches(caseId, heads.get(caseId)!, [note(7)], at) })),
      );
    });
    await ctx.tx((tx) =>
      audit.recordMany(tx, [
        { caseId: a.caseId, touches: [note(8)] },
        { caseId: b.caseId, touches: [] },
      ]),
    );
    expect((await sut.caseTrail(a.caseId, 0, 100)).slice(-2).map((touch) => touch.data)).toEqual([{ n: 7 }, { n: 8 }]);
    expect((await sut.caseTrail(b.caseId, 0, 100)).at(-1)!.data).toEqual({ n: 7 });
    expect((await audit.verify()).ok).toBe(true);
  });

  /** A case of the quick policy whose first notice is claimed as the notice action claims it: what its send's record needs. */
  const claimedNotice = async () => {
    const { caseId, stepIds } = await ctx.tx(async () => newCase(ctx, { policy: 'quick', segment: undefined }));
    const [first, second] = stepIds as [string, string];
    const dispatchId = randomUUID();
    await ctx.tx(async (tx) => {
      const step = (await ctx.get(StepRepository).lockForRun(tx, first))!;
      await ctx.get(DispatchRepository).claimNotice(
        tx,
        {
          id: dispatchId,
          caseId,
          stepId: first,
          channel: 'email',
          recipient: step.debtor.email!,
          purpose: { kind: 'notice', channel: 'email', recipient: step.debtor.email! },
          messageId: `<${dispatchId}@test>`,
          debtorId: step.debtor.id,
          at,
        },
        new Date(0),
      );
    });
    return { caseId, second, head: (await sut.head(caseId))!, sent: { dispatchId, stepId: first, at, providerMessageId: null } };
  };

  it('appendIfHeadUnchanged records a sent notice, marks its dispatch sent and step done, and names the next step; a moved head writes nothing', async () => {
    const { caseId, second, head, sent } = await claimedNotice();
    const stale = chainTouches(caseId, { seq: head.seq - 1, hash: 'stale' }, [note(4)], at);
    expect(await sut.appendIfHeadUnchanged(caseId, { seq: head.seq - 1, hash: 'stale' }, stale.rows, stale.head, sent)).toBeNull();
    expect(await sut.head(caseId)).toEqual(head);

    const chained = chainTouches(caseId, head, [note(5)], at);
    const swapped = await sut.appendIfHeadUnchanged(caseId, head, chained.rows, chained.head, sent);
    expect(swapped?.next?.id).toBe(second);
    expect(await sut.head(caseId)).toEqual(chained.head);
    const schedule = await ctx.get(StepRepository).ofCase(caseId);
    expect(schedule[0]).toMatchObject({ status: 'done', outcome: 'sent' });
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('appendIfHeadUnchanged calls made together swap each case on its own: a moved head fails only its own case', async () => {
    const [a, b] = [await claimedNotice(), await claimedNotice()];
    const stale = { seq: b.head.seq - 1, hash: 'stale' };
    const chainedA = chainTouches(a.caseId, a.head, [note(6)], at);
    const chainedB = chainTouches(b.caseId, stale, [note(7)], at);

    const [swappedA, swappedB] = await Promise.all([
      sut.appendIfHeadUnchanged(a.caseId, a.head, chainedA.rows, chainedA.head, a.sent),
      sut.appendIfHeadUnchanged(b.caseId, stale, chainedB.rows, chainedB.head, b.sent),
    ]);

    expect(swappedA?.next?.id).toBe(a.second);
    expect(swappedB).toBeNull();
    expect(await sut.head(a.caseId)).toEqual(chainedA.head);
    expect(await sut.head(b.caseId)).toEqual(b.head);
    expect((await ctx.get(StepRepository).ofCase(a.caseId))[0]).toMatchObject({ status: 'done', outcome: 'sent' });
    expect((await ctx.get(StepRepository).ofCase(b.caseId))[0]).toMatchObject({ status: 'running' });
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('legalTrail reads only the touches a legal record is made of, in seq order, in or out of a transaction', async () => {
    const { caseId } = await newCase(ctx);
    const other = await newCase(ctx);
    await ctx.tx((tx) =>
      audit.record(tx, caseId, [
        note(1),
        { kind: 'notice.sent', actor: 'test', channel: 'email', data: { dispatchId: 'd-1' } },
        { kind: 'notice.failed', actor: 'test', channel: 'sms', data: { error: 'no number' } },
        { kind: 'payment.applied', actor: 'test', data: { paymentId: 'PAY-1', amount: '100.00' } },
        { kind: 'letter.delivered', actor: 'test', channel: 'post', data: { letterId: 'l-1' } },
      ]),
    );
    await ctx.tx((tx) => audit.record(tx, other.caseId, [{ kind: 'notice.sent', actor: 'test', channel: 'email', data: { dispatchId: 'd-9' } }]));

    const trail = await sut.legalTrail(undefined, caseId);

    const everything = await sut.caseTrail(caseId, 0, 1000);
    const legal = everything.filter((touch) => (LEGAL_TOUCH_KINDS as readonly string[]).includes(touch.kind));
    expect(trail).toEqual(legal.map(({ seq, kind, at, channel, data }) => ({ seq, kind, at, channel, data })));
    expect(trail.map((touch) => touch.kind)).toEqual(['event.received', 'case.opened', 'notice.sent', 'payment.applied', 'letter.delivered']);
    expect(trail.length).toBeLessThan(everything.length);
    expect(trail.slice(-3)).toEqual([
      { seq: expect.any(Number), kind: 'notice.sent', at, channel: 'email', data: { dispatchId: 'd-1' } },
      { seq: expect.any(Number), kind: 'payment.applied', at, channel: null, data: { paymentId: 'PAY-1', amount: '100.00' } },
      { seq: expect.any(Number), kind: 'letter.delivered', at, channel: 'post', data: { letterId: 'l-1' } },
    ]);
    expect(await ctx.tx((tx) => sut.legalTrail(tx, caseId))).toEqual(trail);
    expect((await sut.legalTrail(undefined, other.caseId)).at(-1)).toMatchObject({ kind: 'notice.sent', data: { dispatchId: 'd-9' } });
    expect(await sut.legalTrail(undefined, '00000000-0000-0000-0000-000000000000')).toEqual([]);
    // Reads made together are one statement, each answered with its own case's trail, whatever the case of the id.
    const together = await Promise.all([caseId.toUpperCase(), '00000000-0000-0000-0000-000000000000', other.caseId].map((id) => sut.legalTrail(undefined, id)));
    expect(together).toEqual([trail, [], await sut.legalTrail(undefined, other.caseId)]);
  });

  it('exportPage reads a time window in order, after a keyset position, optionally of one case', async () => {
    const { caseId } = await newCase(ctx);
    const all = await sut.exportPage({ from: at, to: new Date(at.getTime() + 1) }, { at: new Date(0), id: '0' }, 10_000);
    expect(all.length).toBeGreaterThan(0);
    const ofCase = await sut.exportPage({ from: at, to: new Date(at.getTime() + 1), caseId }, { at: new Date(0), id: '0' }, 10_000);
    expect(ofCase.every((touch) => touch.caseId === caseId)).toBe(true);
    const [first, second] = ofCase as [(typeof ofCase)[number], (typeof ofCase)[number]];
    expect(await sut.exportPage({ from: at, to: new Date(at.getTime() + 1), caseId }, { at: first.at, id: first.id }, 1)).toEqual([second]);
    const pages: unknown[] = [];
    for await (const page of audit.exportPages({ from: at, to: new Date(at.getTime() + 1), caseId })) pages.push(...page);
    expect(pages).toEqual(ofCase);
  });

  it('chainPage walks every chain in order after a position', async () => {
    const page = await sut.chainPage(undefined, { caseId: '00000000-0000-0000-0000-000000000000', seq: 0 }, 5);
    expect(page).toHaveLength(5);
    const next = await sut.chainPage(undefined, { caseId: page[4]!.caseId, seq: page[4]!.seq }, 1);
    expect(next[0]).not.toEqual(page[4]);
  });

  it('seals the heads that moved, chains the seals, and finds a sealed head whose touch differs', async () => {
    await newCase(ctx);
    const sealed = await audit.seal();
    expect(sealed).toBeGreaterThan(0);
    expect(await audit.seal()).toBe(0);
    const seals = await sut.sealPage(undefined, '0', 100);
    expect(seals.length).toBeGreaterThan(0);
    const last = seals[seals.length - 1]!;
    expect(last.hash).toBe(sealHash(last.prevHash, last.heads));
    expect(await ctx.tx((tx) => sut.lastSealHash(tx))).toBe(last.hash);
    expect(await sut.sealedHeadMismatch(undefined, last.heads)).toBeUndefined();
    const forged = [{ ...last.heads[0]!, hash: 'f'.repeat(64) }];
    expect(await sut.sealedHeadMismatch(undefined, forged)).toEqual({ caseId: forged[0]!.caseId, seq: forged[0]!.seq });
    expect(await ctx.tx((tx) => sut.lockUnsealedHeads(tx, 10))).toEqual([]);
    const { caseId } = await newCase(ctx);
    const unsealed = await ctx.tx((tx) => sut.lockUnsealedHeads(tx, 10));
    expect(unsealed.map((head) => head.caseId)).toEqual([caseId]);
    await ctx.tx((tx) => sut.insertSeal(tx, { sealedAt: at, heads: unsealed, prevHash: last.hash, hash: sealHash(last.hash, unsealed) }));
    expect(await ctx.tx((tx) => sut.lockUnsealedHeads(tx, 10))).toEqual([]);
    expect((await audit.verify()).ok).toBe(true);
  });

  // The fault suites verify while sweeps still write: a touch landing between the chain read and
  // the head read once showed as a head mismatch.
  it('verify reads one snapshot: a touch written while it walks the chains is not half seen', async () => {
    const { caseId } = await newCase(ctx);
    const walk = sut.chainPage.bind(sut);
    let written = false;
    sut.chainPage = async (tx, after, limit) => {
      const rows = await walk(tx, after, limit);
      if (!written) await ctx.tx((writer) => audit.record(writer, caseId, [note(9)]));
      written = true;
      return rows;
    };
    try {
      expect(await audit.verify()).toMatchObject({ ok: true });
    } finally {
      sut.chainPage = walk;
    }
    expect((await sut.caseTrail(caseId, 0, 100)).at(-1)!.data).toEqual({ n: 9 });
    expect(await audit.verify()).toMatchObject({ ok: true });
  });
});
