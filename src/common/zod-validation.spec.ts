import { z } from 'zod';
import { ValidationFailed } from './errors';
import { MAX_LISTED_PROBLEMS, parseOrThrow } from './zod-validation';

describe('parseOrThrow', () => {
  const schema = z.object({ reason: z.string(), documents: z.array(z.string()).optional() });

  it('passes a good body through its schema', () => {
    expect(parseOrThrow(schema, { reason: 'promised on the phone', documents: ['ID card 𠀀'] }, 'body')).toEqual({
      reason: 'promised on the phone',
      documents: ['ID card 𠀀'],
    });
  });

  it.each([
    ['a NUL in a value', { reason: 'a\u0000b' }, 'body.reason'],
    ['an unpaired surrogate in a list item', { reason: 'ok', documents: ['fine', 'bad \uD800'] }, 'body.documents[1]'],
    ['a NUL in a key', { reason: 'ok', ['k\u0000']: 'x' }, 'body.k\u0000'],
  ])('refuses %s before the schema sees it, naming the field', (_what, body, field) => {
    const refuse = () => parseOrThrow(schema, body, 'body');
    expect(refuse).toThrow(ValidationFailed);
    expect(refuse).toThrow(`${field}: must not contain NUL or unpaired surrogate characters`);
  });

  it('refuses a __proto__ key rather than dropping it', () => {
    const body = JSON.parse('{"reason":"ok","__proto__":{"admin":true}}') as unknown;
    expect(() => parseOrThrow(schema, body, 'body')).toThrow('body.__proto__: is not a field');
  });

  /** The ValidationFailed that `parseOrThrow` throws for `value`. */
  const failure = (target: z.ZodType, value: unknown, prefix: string) => {
    try {
      parseOrThrow(target, value, prefix);
    } catch (error) {
      if (error instanceof ValidationFailed) return error;
      throw error;
    }
    throw new Error('expected a ValidationFailed');
  };

  it('names a few unknown keys, cut short, and counts the rest, so that a thousand of them make a small error', () => {
    const query = Object.fromEntries([['x'.repeat(5000), '1'], ...Array.from({ length: 1200 }, (_, i) => [`p${i}`, '1'])]);
    const error = failure(z.strictObject({ limit: z.string().optional() }), query, 'query');
    expect(error.details).toEqual([{ field: 'query', reason: `Unrecognized keys: "${'x'.repeat(40)}…", "p0", "p1" and 1198 more` }]);
    expect(error.message.length).toBeLessThan(200);
  });

  it(`lists at most ${MAX_LISTED_PROBLEMS} problems and counts the others in a last entry`, () => {
    const error = failure(schema, { reason: 'ok', documents: Array.from({ length: 5000 }, (_, i) => i) }, 'body');
    expect(error.details).toHaveLength(MAX_LISTED_PROBLEMS);
    expect(error.details[0]).toEqual({ field: 'body.documents[0]', reason: 'must be text, not a number' });
    expect(error.details[MAX_LISTED_PROBLEMS - 1]).toEqual({ field: 'body', reason: `and ${5000 - MAX_LISTED_PROBLEMS + 1} more problems` });
    expect(JSON.stringify(error.details).length).toBeLessThan(4096);
  });

  it('cuts a long key short in the field it names', () => {
    const error = failure(z.object({ address: z.record(z.string(), z.string().max(3)) }), { address: { ['k'.repeat(5000)]: 'too long' } }, 'body');
    expect(error.details).toEqual([{ field: `body.address.${'k'.repeat(40)}…`, reason: expect.stringContaining('3') }]);
    const unstorable = failure(schema, { reason: 'ok', [`${'k'.repeat(5000)}\u0000`]: 'x' }, 'body');
    expect(unstorable.details[0]!.field).toBe(`body.${'k'.repeat(40)}…`);
  });
});
