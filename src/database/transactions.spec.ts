import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource } from 'typeorm';
import { RunAlone, Transactions, type Tx } from './transactions';

/** A data source whose transactions are only counted: each gets a manager of its own; a failed work rolls it back. */
function countingDataSource() {
  const transactions: { committed: boolean }[] = [];
  const dataSource = {
    async transaction<T>(work: (manager: unknown) => Promise<T>): Promise<T> {
      const transaction = { committed: false };
      transactions.push(transaction);
      const result = await work(transaction);
      transaction.committed = true;
      return result;
    },
  } as unknown as DataSource;
  return { transactions, sut: new Transactions(dataSource) };
}

describe('Transactions.runGathered', () => {
  it('runs the works handed in during one turn in one transaction, each resolving with its own value', async () => {
    const { transactions, sut } = countingDataSource();
    const seen: Tx[] = [];
    const work = (value: string) => async (tx: Tx) => {
      seen.push(tx);
      return value;
    };
    await expect(Promise.all([sut.runGathered(work('a')), sut.runGathered(work('b')), sut.runGathered(work('c'))])).resolves.toEqual(['a', 'b', 'c']);
    expect(transactions).toEqual([{ committed: true }]);
    expect(new Set(seen).size).toBe(1);
  });

  it('when one work throws, runs each again in a transaction of its own: the failure is only its own', async () => {
    const { transactions, sut } = countingDataSource();
    const refused = new Error('refused');
    const runs: string[] = [];
    const work = (value: string) => async () => {
      runs.push(value);
      if (value === 'bad') throw refused;
      return value;
    };
    const outcomes = await Promise.allSettled([sut.runGathered(work('a')), sut.runGathered(work('bad')), sut.runGathered(work('c'))]);
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 'a' },
      { status: 'rejected', reason: refused },
      { status: 'fulfilled', value: 'c' },
    ]);
    expect(runs.sort()).toEqual(['a', 'a', 'bad', 'bad', 'c', 'c']);
    // The shared one rolled back; of the three alone, the failed one did too.
    expect(transactions.map((transaction) => transaction.committed)).toEqual([false, true, false, true]);
  });

  it('tells each work whether it shares, and a work that must run alone (RunAlone) makes every work run alone', async () => {
    const { transactions, sut } = countingDataSource();
    const told: string[] = [];
    const work = (value: string) => async (_tx: Tx, shared: boolean) => {
      told.push(`${value}:${shared ? 'shared' : 'alone'}`);
      if (value === 'letter' && shared) throw new RunAlone();
      return value;
    };
    await expect(Promise.all([sut.runGathered(work('notice')), sut.runGathered(work('letter'))])).resolves.toEqual(['notice', 'letter']);
    expect(told.sort()).toEqual(['letter:alone', 'letter:shared', 'notice:alone', 'notice:shared']);
    expect(transactions.map((transaction) => transaction.committed)).toEqual([false, true, true]);
  });

  it('runs a work handed in alone in a transaction of its own, told so', async () => {
    const { transactions, sut } = countingDataSource();
    await expect(sut.runGathered(async (_tx, shared) => shared)).resolves.toBe(false);
    expect(transactions).toEqual([{ committed: true }]);
  });

  it('gathers the works handed in while a shared transaction runs into the next one', async () => {
    const { transactions, sut } = countingDataSource();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = sut.runGathered(async () => held.then(() => 'first'));
    await new Promise((resolve) => setImmediate(resolve));
    const later = [sut.runGathered(async () => 'second'), sut.runGathered(async () => 'third')];
    await new Promise((resolve) => setImmediate(resolve));
    expect(transactions).toHaveLength(1);
    release();
    await expect(Promise.all([first, ...later])).resolves.toEqual(['first', 'second', 'third']);
    expect(transactions).toHaveLength(2);
  });

  it("runs each work in its caller's async context, not the first caller's", async () => {
    const { sut } = countingDataSource();
    const context = new AsyncLocalStorage<string>();
    const work = async () => context.getStore();
    const seen = await Promise.all(['job-1', 'job-2'].map((job) => context.run(job, () => sut.runGathered(work))));
    expect(seen).toEqual(['job-1', 'job-2']);
  });
});
