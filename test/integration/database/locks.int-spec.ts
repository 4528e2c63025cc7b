import { DataSource } from 'typeorm';
import { AdvisoryLock, Locks } from '../../../src/database/locks.repository';
import type { Tx } from '../../../src/database/transactions';
import { type IntegrationContext, startIntegration } from '../../support/integration';

describe('Locks', () => {
  let ctx: IntegrationContext;
  let sut: Locks;

  beforeAll(async () => {
    ctx = await startIntegration('locks');
    sut = ctx.get(Locks);
    ctx.setNow(new Date('2026-03-10T08:00:00Z'));
  });
  afterAll(() => ctx.close());

  /** True while some session of this suite's database waits for a lock (PostgreSQL's own view, no timing). */
  async function someoneWaits(): Promise<boolean> {
    const waiting = `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    const [row] = await ctx.get(DataSource).query<{ n: number }[]>(waiting);
    return row!.n > 0;
  }

  /**
   * Holds what `first` takes in an open transaction and starts `second` in another, until the second either
   * finishes or blocks; after one more round trip of the first, `waited` tells whether the second was still
   * unfinished. Then the first commits, and `finished` tells that the second went through.
   */
  async function contend(first: (tx: Tx) => Promise<unknown>, second: (tx: Tx) => Promise<unknown>): Promise<{ waited: boolean; finished: boolean }> {
    let finished = false;
    let waiter: Promise<void> | undefined;
    const waited = await ctx.tx(async (tx) => {
      await first(tx);
      waiter = ctx.tx(second).then(() => {
        finished = true;
      });
      while (!finished && !(await someoneWaits())) {
        // look again: the second transaction has not reached its lock yet
      }
      await sut.tryTake(tx, AdvisoryLock.LegalClocks);
      return !finished;
    });
    await waiter;
    return { waited, finished };
  }

  it('tryTake answers false while another transaction holds the lock, and true once that one commits', async () => {
    await ctx.tx(async (holder) => {
      expect(await sut.tryTake(holder, AdvisoryLock.Seal)).toBe(true);
      expect(await ctx.tx((other) => sut.tryTake(other, AdvisoryLock.Seal))).toBe(false);
      expect(await ctx.tx((other) => sut.tryTake(other, AdvisoryLock.Reconcile))).toBe(true);
      expect(await sut.tryTake(holder, AdvisoryLock.Seal)).toBe(true);
    });
    expect(await ctx.tx((other) => sut.tryTake(other, AdvisoryLock.Seal))).toBe(true);
  });

  it('a lock taken by tryTake is free again when its transaction rolls back', async () => {
    await expect(
      ctx.tx(async (holder) => {
        expect(await sut.tryTake(holder, AdvisoryLock.Reconcile)).toBe(true);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await ctx.tx((other) => sut.tryTake(other, AdvisoryLock.Reconcile))).toBe(true);
  });

  it('take waits for the transaction holding the lock and takes it when that one commits', async () => {
    const contended = await contend(
      (tx) => sut.take(tx, AdvisoryLock.PolicyVersions),
      (tx) => sut.take(tx, AdvisoryLock.PolicyVersions),
    );
    expect(contended).toEqual({ waited: true, finished: true });
  });

  it('take holds the lock against tryTake and waits for a lock taken by tryTake', async () => {
    await ctx.tx(async (holder) => {
      await sut.take(holder, AdvisoryLock.Seal);
      expect(await ctx.tx((other) => sut.tryTake(other, AdvisoryLock.Seal))).toBe(false);
    });
    const contended = await contend(
      async (tx) => expect(await sut.tryTake(tx, AdvisoryLock.Seal)).toBe(true),
      (tx) => sut.take(tx, AdvisoryLock.Seal),
    );
    expect(contended).toEqual({ waited: true, finished: true });
  });

  it('take does not wait for a lock other than the one held', async () => {
    const contended = await contend(
      (tx) => sut.take(tx, AdvisoryLock.Seal),
      (tx) => sut.take(tx, AdvisoryLock.Reconcile),
    );
    expect(contended).toEqual({ waited: false, finished: true });
  });

  it('lanes takes several lanes at once, given with duplicates and in any order, and none is free until the transaction commits', async () => {
    const lanes = ['invoice:c', 'invoice:a', 'invoice:c', 'debtor:b'];
    for (const lane of new Set(lanes)) {
      const contended = await contend(
        (tx) => sut.lanes(tx, lanes),
        (tx) => sut.lanes(tx, [lane]),
      );
      expect(contended).toEqual({ waited: true, finished: true });
    }
  });

  it('lanes waits when the holder named the same lanes in another order', async () => {
    const contended = await contend(
      (tx) => sut.lanes(tx, ['invoice:y', 'invoice:x']),
      (tx) => sut.lanes(tx, ['invoice:x', 'invoice:z', 'invoice:y', 'invoice:x']),
    );
    expect(contended).toEqual({ waited: true, finished: true });
  });

  it('lanes does not wait for other lanes, and an empty list takes nothing', async () => {
    const held = (tx: Tx) => sut.lanes(tx, ['invoice:p', 'invoice:q']);
    expect(await contend(held, (tx) => sut.lanes(tx, ['invoice:r', 'debtor:p']))).toEqual({ waited: false, finished: true });
    expect(await contend(held, (tx) => sut.lanes(tx, []))).toEqual({ waited: false, finished: true });
  });
});
