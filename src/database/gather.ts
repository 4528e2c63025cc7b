import type { Tx } from './transactions';

/** Where gathered calls run: a transaction, or (undefined) one statement committed on its own. */
type Scope = Tx | undefined;

interface Waiting<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

const ALONE = {};
/** Statements of one kind at once outside a transaction: while one runs, calls gather into the next. */
const ALONE_AT_ONCE = 1;

/**
 * Group commit for one kind of statement: the calls made in the same turn of the event loop, in
 * the same transaction (or all outside one), run as one statement. `many` gets the calls' inputs
 * and answers one output per input, in their order. Inputs that share a `key` go into separate
 * rounds, run one after the other, so that one statement never writes a row twice and each round
 * sees the writes of the one before.
 *
 * A failed round outside a transaction is run again one input at a time, so a failure is only its
 * own caller's; inside one, the transaction is lost anyway and every caller of the round gets the
 * error.
 */
export class Gather<I, O> {
  private readonly waiting = new Map<Scope | typeof ALONE, Waiting<I, O>[]>();
  private readonly starting = new Set<Scope | typeof ALONE>();
  /** Statements running outside a transaction. */
  private alone = 0;

  constructor(
    private readonly many: (scope: Scope, inputs: I[]) => Promise<O[]>,
    private readonly key: (input: I) => string,
  ) {}

  call(scope: Scope, input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const slot = scope ?? ALONE;
      let queue = this.waiting.get(slot);
      if (!queue) {
        queue = [];
        this.waiting.set(slot, queue);
      }
      queue.push({ input, resolve, reject });
      this.startSoon(scope);
    });
  }

  /** Flushes after this turn; outside a transaction, only while few flushes run (else when one ends). */
  private startSoon(scope: Scope): void {
    const slot = scope ?? ALONE;
    if (this.starting.has(slot) || !this.waiting.has(slot) || (scope === undefined && this.alone >= ALONE_AT_ONCE)) return;
    this.starting.add(slot);
    setImmediate(() => {
      this.starting.delete(slot);
      const queue = this.waiting.get(slot)!;
      this.waiting.delete(slot);
      if (scope !== undefined) return void this.flush(scope, queue);
      this.alone++;
      void this.flush(scope, queue).finally(() => {
        this.alone--;
        this.startSoon(undefined);
      });
    });
  }

  private async flush(scope: Scope, queue: Waiting<I, O>[]): Promise<void> {
    for (const round of rounds(queue, (entry) => this.key(entry.input))) {
      try {
        await this.settle(scope, round);
      } catch (error) {
        if (scope !== undefined || round.length === 1) {
          round.forEach((entry) => entry.reject(error));
          continue;
        }
        for (const entry of round) await this.settle(undefined, [entry]).catch(entry.reject);
      }
    }
  }

  private async settle(scope: Scope, round: Waiting<I, O>[]): Promise<void> {
    const outputs = await this.many(
      scope,
      round.map((entry) => entry.input),
    );
    round.forEach((entry, i) => entry.resolve(outputs[i]!));
  }
}

/** Splits items into rounds in which no key appears twice, keeping their order within each round. */
export function rounds<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const result: { keys: Set<string>; items: T[] }[] = [];
  for (const item of items) {
    const k = key(item);
    let round = result.find((candidate) => !candidate.keys.has(k));
    if (!round) {
      round = { keys: new Set(), items: [] };
      result.push(round);
    }
    round.keys.add(k);
    round.items.push(item);
  }
  return result.map((round) => round.items);
}
