import { randomUUID } from 'node:crypto';
import { EventRepository } from '../../../src/events/event.repository';
import { type PolicyVersion, policySchema } from '../../../src/domain/policy';
import { readPolicyFiles } from '../../../src/policies/policy-files';
import { PolicyRepository } from '../../../src/policies/policy.repository';
import { type IntegrationContext, startIntegration } from '../../support/integration';

describe('PolicyRepository and EventRepository', () => {
  let ctx: IntegrationContext;
  let policies: PolicyRepository;
  let events: EventRepository;
  const at = new Date('2026-03-10T08:00:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('policy_event_repo');
    policies = ctx.get(PolicyRepository);
    events = ctx.get(EventRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  const policyKey = () => `policy-${randomUUID().slice(0, 8)}`;
  const version = (key: string, n: number): PolicyVersion => ({
    id: randomUUID(),
    key,
    version: n,
    definition: policySchema.parse({ key, steps: [{ at: `P${n}D`, action: 'fee' }] }),
  });
  const eventId = () => `evt-${randomUUID()}`;

  describe('PolicyRepository', () => {
    it('finds the versions the registry stored at boot by their file content', async () => {
      const files = readPolicyFiles(ctx.config.POLICIES_DIR, () => true);
      const quiet = files.find((file) => file.definition.key === 'quiet')!;
      await ctx.tx(async (tx) => {
        expect(await policies.findByContent(tx, 'quiet', quiet.contentHash)).toEqual({ id: expect.any(String), version: 1 });
        expect(await policies.nextVersion(tx, 'quiet')).toBe(2);
      });
    });

    it('insert stores a version that findByContent finds under its key and content hash only', async () => {
      const key = policyKey();
      const first = version(key, 1);
      await ctx.tx((tx) => policies.insert(tx, first, 'hash-1', at));
      await ctx.tx(async (tx) => {
        expect(await policies.findByContent(tx, key, 'hash-1')).toEqual({ id: first.id, version: 1 });
        expect(await policies.findByContent(tx, key, 'hash-2')).toBeUndefined();
        expect(await policies.findByContent(tx, policyKey(), 'hash-1')).toBeUndefined();
      });
    });

    it('nextVersion is 1 for a new key and one past the highest stored version of the key', async () => {
      const key = policyKey();
      const other = policyKey();
      await ctx.tx(async (tx) => {
        expect(await policies.nextVersion(tx, key)).toBe(1);
        await policies.insert(tx, version(key, 1), 'hash-1', at);
        expect(await policies.nextVersion(tx, key)).toBe(2);
        await policies.insert(tx, version(key, 5), 'hash-5', at);
        await policies.insert(tx, version(other, 9), 'hash-9', at);
      });
      expect(await ctx.tx((tx) => policies.nextVersion(tx, key))).toBe(6);
      expect(await ctx.tx((tx) => policies.findByContent(tx, key, 'hash-5'))).toEqual({ id: expect.any(String), version: 5 });
    });

    it('insert refuses a second row with the same version or the same content of a key, and the refused row is not stored', async () => {
      const key = policyKey();
      const first = version(key, 1);
      await ctx.tx((tx) => policies.insert(tx, first, 'hash-1', at));
      await expect(ctx.tx((tx) => policies.insert(tx, version(key, 1), 'hash-other', at))).rejects.toThrow(/duplicate key/);
      await expect(ctx.tx((tx) => policies.insert(tx, version(key, 2), 'hash-1', at))).rejects.toThrow(/duplicate key/);
      await ctx.tx(async (tx) => {
        expect(await policies.findByContent(tx, key, 'hash-other')).toBeUndefined();
        expect(await policies.findByContent(tx, key, 'hash-1')).toEqual({ id: first.id, version: 1 });
        expect(await policies.nextVersion(tx, key)).toBe(2);
      });
    });
  });

  describe('EventRepository', () => {
    it('claim records an event as seen once: true the first time, false after, whatever the type', async () => {
      const id = eventId();
      expect(await ctx.tx((tx) => events.claim(tx, id, 'invoice.overdue', at))).toBe(true);
      expect(await ctx.tx((tx) => events.claim(tx, id, 'invoice.overdue', at))).toBe(false);
      expect(await ctx.tx((tx) => events.claim(tx, id, 'payment.received', at))).toBe(false);
      expect(await ctx.tx((tx) => events.casesOf(tx, [id]))).toEqual(new Map([[id, null]]));
    });

    it('a claim in a transaction that rolls back is not recorded', async () => {
      const id = eventId();
      await expect(
        ctx.tx(async (tx) => {
          expect(await events.claim(tx, id, 'invoice.overdue', at)).toBe(true);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await ctx.tx((tx) => events.casesOf(tx, [id]))).toEqual(new Map());
      expect(await ctx.tx((tx) => events.claim(tx, id, 'invoice.overdue', at))).toBe(true);
    });

    it('claimMany returns the ids not seen before, once each, and records them', async () => {
      const [seen, fresh, again] = [eventId(), eventId(), eventId()];
      await ctx.tx((tx) => events.claim(tx, seen, 'invoice.overdue', at));
      const claimed = await ctx.tx((tx) => events.claimMany(tx, [fresh, seen, again, fresh], 'invoice.overdue', at));
      expect(claimed).toEqual(new Set([fresh, again]));
      expect(await ctx.tx((tx) => events.claimMany(tx, [fresh, again], 'invoice.overdue', at))).toEqual(new Set());
      expect(await ctx.tx((tx) => events.claim(tx, again, 'invoice.overdue', at))).toBe(false);
      expect(await ctx.tx((tx) => events.claimMany(tx, [], 'invoice.overdue', at))).toEqual(new Set());
    });

    it('casesOf gives the case each seen event applied to, null where none, and leaves out unseen events', async () => {
      const [applied, none, unseen] = [eventId(), eventId(), eventId()];
      const caseId = randomUUID();
      await ctx.tx(async (tx) => {
        await events.claimMany(tx, [applied, none], 'invoice.overdue', at);
        await events.setCases(tx, [{ eventId: applied, caseId }]);
      });
      const cases = await ctx.tx((tx) => events.casesOf(tx, [applied, none, unseen]));
      expect(cases).toEqual(
        new Map([
          [applied, caseId],
          [none, null],
        ]),
      );
      expect(await ctx.tx((tx) => events.casesOf(tx, []))).toEqual(new Map());
    });

    it('setCases notes the case of each event given, clears it for an undefined case, and leaves other events alone', async () => {
      const [a, b, c] = [eventId(), eventId(), eventId()];
      const [caseA, caseB, caseC] = [randomUUID(), randomUUID(), randomUUID()];
      await ctx.tx(async (tx) => {
        await events.claimMany(tx, [a, b, c], 'invoice.overdue', at);
        await events.setCases(tx, [
          { eventId: a, caseId: caseA },
          { eventId: b, caseId: caseB },
          { eventId: c, caseId: caseC },
        ]);
      });
      await ctx.tx((tx) =>
        events.setCases(tx, [
          { eventId: a, caseId: caseC },
          { eventId: b, caseId: undefined },
          { eventId: eventId(), caseId: caseA },
        ]),
      );
      await ctx.tx((tx) => events.setCases(tx, []));
      expect(await ctx.tx((tx) => events.casesOf(tx, [a, b, c]))).toEqual(
        new Map([
          [a, caseC],
          [b, null],
          [c, caseC],
        ]),
      );
    });
  });
});
