import { type ChainedTouch, findChainFault, type SealHead, sealHash, touchHash } from './touch-chain';

type Touch = ChainedTouch & { hash: string };

const base: ChainedTouch = {
  caseId: '0f6b1c1e-0000-4000-8000-000000000001',
  seq: 1,
  kind: 'case.opened',
  at: new Date('2026-11-02T08:00:00.000Z'),
  actor: 'system',
  channel: null,
  data: { invoice: 'INV-1', amount: '1250.00', currency: 'EUR' },
  prevHash: '',
};

/** Builds a correctly linked chain from touch bodies. */
function chain(bodies: Omit<ChainedTouch, 'seq' | 'prevHash'>[]): Touch[] {
  const touches: Touch[] = [];
  bodies.forEach((body, index) => {
    const touch = { ...body, seq: index + 1, prevHash: touches[index - 1]?.hash ?? '' };
    touches.push({ ...touch, hash: touchHash(touch) });
  });
  return touches;
}

const goodChain = () =>
  chain([
    { caseId: base.caseId, kind: 'case.opened', at: new Date('2026-11-02T08:00:00Z'), actor: 'system', channel: null, data: { a: 1 } },
    {
      caseId: base.caseId,
      kind: 'notice.sent',
      at: new Date('2026-11-03T08:00:00Z'),
      actor: 'system',
      channel: 'email',
      data: { template: 'reminder-friendly' },
    },
    { caseId: base.caseId, kind: 'payment.received', at: new Date('2026-11-05T10:30:00Z'), actor: 'api:ingest', channel: null, data: { amount: '1250.00' } },
    { caseId: base.caseId, kind: 'case.closed', at: new Date('2026-11-05T10:30:01Z'), actor: 'system', channel: null, data: {} },
  ]);

describe('touch chain', () => {
  describe('touchHash', () => {
    it('is a sha256 hex digest', () => {
      expect(touchHash(base)).toMatch(/^[0-9a-f]{64}$/);
    });

    it('is deterministic', () => {
      expect(touchHash(base)).toBe(touchHash({ ...base, at: new Date(base.at.getTime()), data: structuredClone(base.data) }));
    });

    it('does not depend on the key order in data, at any depth', () => {
      const a = { ...base, data: { x: 1, y: { p: 'a', q: [1, 2, { m: 1, n: 2 }] }, z: null } };
      const b = { ...base, data: { z: null, y: { q: [1, 2, { n: 2, m: 1 }], p: 'a' }, x: 1 } };
      expect(touchHash(a)).toBe(touchHash(b));
    });

    it('does not depend on the key order of the touch itself', () => {
      const reordered: ChainedTouch = {
        prevHash: base.prevHash,
        data: base.data,
        channel: base.channel,
        actor: base.actor,
        at: base.at,
        kind: base.kind,
        seq: base.seq,
        caseId: base.caseId,
      };
      expect(touchHash(reordered)).toBe(touchHash(base));
    });

    it('depends on array order in data', () => {
      expect(touchHash({ ...base, data: [1, 2] })).not.toBe(touchHash({ ...base, data: [2, 1] }));
    });

    it.each<[string, Partial<ChainedTouch>]>([
      ['caseId', { caseId: '0f6b1c1e-0000-4000-8000-000000000002' }],
      ['seq', { seq: 2 }],
      ['kind', { kind: 'case.closed' }],
      ['at', { at: new Date('2026-11-02T08:00:00.001Z') }],
      ['actor', { actor: 'operator:alice' }],
      ['channel', { channel: 'email' }],
      ['data (value)', { data: { invoice: 'INV-1', amount: '1250.01', currency: 'EUR' } }],
      ['data (extra key)', { data: { invoice: 'INV-1', amount: '1250.00', currency: 'EUR', note: 'x' } }],
      ['data (number vs string)', { data: { invoice: 'INV-1', amount: 1250, currency: 'EUR' } }],
      ['prevHash', { prevHash: 'a'.repeat(64) }],
    ])('changes when %s changes', (_field, change) => {
      expect(touchHash({ ...base, ...change })).not.toBe(touchHash(base));
    });

    it('distinguishes a null channel from the string "null"', () => {
      expect(touchHash({ ...base, channel: 'null' })).not.toBe(touchHash(base));
    });
  });

  describe('findChainFault', () => {
    it('returns null for a good chain', () => {
      expect(findChainFault(goodChain())).toBeNull();
    });

    it('returns null for an empty chain', () => {
      expect(findChainFault([])).toBeNull();
    });

    it('verifies the touches kept after a retention run from the anchor of the last one removed', () => {
      const [, second, ...kept] = goodChain();
      const anchor = { seq: second!.seq, hash: second!.hash };
      expect(findChainFault(kept, anchor)).toBeNull();
      // Without the anchor the kept touches start mid-chain; with another anchor they do not link.
      expect(findChainFault(kept)).toEqual({ seq: 3, fault: 'sequence gap' });
      expect(findChainFault(kept, { seq: 2, hash: 'e'.repeat(64) })).toEqual({ seq: 3, fault: 'broken link' });
      expect(findChainFault(kept, { seq: 1, hash: anchor.hash })).toEqual({ seq: 3, fault: 'sequence gap' });
    });

    it("finds a hash mismatch when a touch's data was edited", () => {
      const touches = goodChain();
      touches[2] = { ...touches[2]!, data: { amount: '1.00' } };
      expect(findChainFault(touches)).toEqual({ seq: 3, fault: 'hash mismatch' });
    });

    it('finds a hash mismatch when the first touch was edited', () => {
      const touches = goodChain();
      touches[0] = { ...touches[0]!, actor: 'someone-else' };
      expect(findChainFault(touches)).toEqual({ seq: 1, fault: 'hash mismatch' });
    });

    it("finds a hash mismatch when the last touch's stored hash was replaced", () => {
      const touches = goodChain();
      touches[3] = { ...touches[3]!, hash: 'f'.repeat(64) };
      expect(findChainFault(touches)).toEqual({ seq: 4, fault: 'hash mismatch' });
    });

    it('finds a broken link when prevHash does not point at the previous touch', () => {
      const touches = goodChain();
      const relinked = { ...touches[2]!, prevHash: touches[0]!.hash };
      touches[2] = { ...relinked, hash: touchHash(relinked) }; // re-hashed, so only the link is wrong
      expect(findChainFault(touches)).toEqual({ seq: 3, fault: 'broken link' });
    });

    it('finds a broken link when the first touch has a non-empty prevHash', () => {
      const touches = goodChain();
      const first = { ...touches[0]!, prevHash: 'a'.repeat(64) };
      touches[0] = { ...first, hash: touchHash(first) };
      expect(findChainFault(touches)).toEqual({ seq: 1, fault: 'broken link' });
    });

    it('finds a broken link when an edited touch was re-hashed but the next touch was not', () => {
      const touches = goodChain();
      const edited = { ...touches[1]!, data: { template: 'other' } };
      touches[1] = { ...edited, hash: touchHash(edited) };
      expect(findChainFault(touches)).toEqual({ seq: 3, fault: 'broken link' });
    });

    it('finds a sequence gap when a touch was deleted', () => {
      const touches = goodChain();
      touches.splice(1, 1);
      expect(findChainFault(touches)).toEqual({ seq: 3, fault: 'sequence gap' });
    });

    it('finds a sequence gap when the chain does not start at 1', () => {
      expect(findChainFault(goodChain().slice(1))).toEqual({ seq: 2, fault: 'sequence gap' });
    });

    it('finds a sequence gap for a duplicated seq', () => {
      const touches = goodChain();
      touches.splice(2, 0, touches[1]!);
      expect(findChainFault(touches)).toEqual({ seq: 2, fault: 'sequence gap' });
    });

    it('reports the first fault when there are several', () => {
      const touches = goodChain();
      touches[1] = { ...touches[1]!, data: { edited: true } };
      touches[3] = { ...touches[3]!, data: { edited: true } };
      expect(findChainFault(touches)).toEqual({ seq: 2, fault: 'hash mismatch' });
    });
  });

  describe('sealHash', () => {
    const heads: [SealHead, SealHead] = [
      { caseId: 'case-a', seq: 4, hash: 'a'.repeat(64) },
      { caseId: 'case-b', seq: 2, hash: 'b'.repeat(64) },
    ];

    it('is a deterministic sha256 hex digest', () => {
      expect(sealHash('', heads)).toMatch(/^[0-9a-f]{64}$/);
      expect(sealHash('', heads)).toBe(sealHash('', structuredClone(heads)));
    });

    it('does not depend on the key order inside a head', () => {
      const reordered = heads.map(({ caseId, seq, hash }) => ({ hash, seq, caseId }));
      expect(sealHash('', reordered)).toBe(sealHash('', heads));
    });

    it('changes with the previous seal', () => {
      expect(sealHash('c'.repeat(64), heads)).not.toBe(sealHash('', heads));
    });

    it.each<[string, SealHead[]]>([
      ['no heads', []],
      ['a head removed', [heads[0]]],
      ['a head added', [...heads, { caseId: 'case-c', seq: 1, hash: 'c'.repeat(64) }]],
      ['a head seq changed', [heads[0], { ...heads[1], seq: 3 }]],
      ['a head hash changed', [heads[0], { ...heads[1], hash: 'd'.repeat(64) }]],
      ['a head caseId changed', [{ ...heads[0], caseId: 'case-z' }, heads[1]]],
    ])('changes with the heads: %s', (_label, changed) => {
      expect(sealHash('', changed)).not.toBe(sealHash('', heads));
    });
  });
});
