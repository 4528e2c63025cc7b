import { Gather, rounds } from './gather';
import type { Tx } from './transactions';

const tx = (name: string) => ({ name }) as unknown as Tx;

/** A gather whose statement doubles numbers, refuses negative ones, and notes every statement it ran. */
function doubling(key: (input: number) => string = String) {
  const statements: { scope: Tx | undefined; inputs: number[] }[] = [];
  const gather = new Gather<number, number>(async (scope, inputs) => {
    statements.push({ scope, inputs });
    if (inputs.some((input) => input < 0)) throw new Error(`refused ${inputs.join(',')}`);
    return inputs.map((input) => input * 2);
  }, key);
  return { gather, statements };
}

describe('Gather', () => {
  it('runs the calls of one turn in one transaction as one statement, each caller getting its own answer', async () => {
    const { gather, statements } = doubling();
    const shared = tx('a');
    await expect(Promise.all([gather.call(shared, 1), gather.call(shared, 2), gather.call(shared, 3)])).resolves.toEqual([2, 4, 6]);
    expect(statements).toEqual([{ scope: shared, inputs: [1, 2, 3] }]);
  });

  it('keeps calls in different transactions apart', async () => {
    const { gather, statements } = doubling();
    const [a, b] = [tx('a'), tx('b')];
    await expect(Promise.all([gather.call(a, 1), gather.call(b, 2), gather.call(a, 3)])).resolves.toEqual([2, 4, 6]);
    expect(statements).toEqual([
      { scope: a, inputs: [1, 3] },
      { scope: b, inputs: [2] },
    ]);
  });

  it('puts inputs that share a key into rounds run one after the other', async () => {
    const { gather, statements } = doubling((input) => String(input % 2));
    await expect(Promise.all([1, 2, 3, 4, 5].map((input) => gather.call(undefined, input)))).resolves.toEqual([2, 4, 6, 8, 10]);
    expect(statements.map((statement) => statement.inputs)).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('outside a transaction, runs a failed statement again one input at a time: only the refused call fails', async () => {
    const { gather, statements } = doubling();
    const calls = [gather.call(undefined, 1), gather.call(undefined, -1), gather.call(undefined, 3)];
    await expect(Promise.allSettled(calls)).resolves.toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'rejected', reason: new Error('refused -1') },
      { status: 'fulfilled', value: 6 },
    ]);
    expect(statements.map((statement) => statement.inputs)).toEqual([[1, -1, 3], [1], [-1], [3]]);
  });

  it('inside a transaction, fails every call of the failed statement: the transaction is lost anyway', async () => {
    const { gather, statements } = doubling();
    const shared = tx('a');
    const calls = [gather.call(shared, 1), gather.call(shared, -1)];
    await expect(Promise.allSettled(calls)).resolves.toEqual([
      { status: 'rejected', reason: new Error('refused 1,-1') },
      { status: 'rejected', reason: new Error('refused 1,-1') },
    ]);
    expect(statements).toHaveLength(1);
  });

  it('outside a transaction, gathers the calls made while a statement runs into the next one', async () => {
    const statements: number[][] = [];
    let release: () => void = () => undefined;
    const gather = new Gather<number, number>(async (_scope, inputs) => {
      statements.push(inputs);
      if (statements.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return inputs;
    }, String);
    const first = gather.call(undefined, 1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [gather.call(undefined, 2), gather.call(undefined, 3)];
    await new Promise((resolve) => setImmediate(resolve));
    expect(statements).toEqual([[1]]);
    release();
    await expect(Promise.all([first, ...later])).resolves.toEqual([1, 2, 3]);
    expect(statements).toEqual([[1], [2, 3]]);
  });
});

describe('rounds', () => {
  it('splits items so that no key appears twice in a round, keeping their order', () => {
    expect(rounds(['a1', 'b1', 'a2', 'c1', 'a3', 'b2'], (item) => item[0]!)).toEqual([['a1', 'b1', 'c1'], ['a2', 'b2'], ['a3']]);
    expect(rounds([], String)).toEqual([]);
  });
});
