import { CURSOR, decodeCursor, encodeCursor } from './cursor';
import { ValidationFailed } from './errors';

describe('cursors', () => {
  const id = '3f2b8c1e-5d4a-4e9b-8c7d-1a2b3c4d5e6f';

  it('reads back what this service wrote', () => {
    expect(decodeCursor(encodeCursor(['2026-11-23T09:30:00.000Z', id]), CURSOR.instantAndId)).toEqual(['2026-11-23T09:30:00.000Z', id]);
    expect(decodeCursor(encodeCursor([42]), CURSOR.position)).toEqual([42]);
  });

  it.each([
    ['nulls', encodeCursor([null, null]), CURSOR.instantAndId],
    ['a negative position', encodeCursor([-1]), CURSOR.position],
    ['a fractional position', encodeCursor([1.5]), CURSOR.position],
    ['a position beyond the column', encodeCursor([2 ** 40]), CURSOR.position],
    ['a string position', encodeCursor(['1']), CURSOR.position],
    ['a date that is not an instant', encodeCursor(['yesterday', id]), CURSOR.instantAndId],
    ['an id that is not a UUID', encodeCursor(['2026-11-23T09:30:00.000Z', "1' OR '1'='1"]), CURSOR.instantAndId],
    ['the wrong length', encodeCursor([42, 43]), CURSOR.position],
    ['not JSON', Buffer.from('{[').toString('base64url'), CURSOR.position],
    ['not an array', encodeCursor({ seq: 1 } as unknown as unknown[]), CURSOR.position],
  ] as const)('refuses %s with a 400 naming the cursor', (_what, cursor, shape) => {
    const refuse = () => decodeCursor(cursor, shape);
    expect(refuse).toThrow(ValidationFailed);
    expect(refuse).toThrow('query.cursor: is not a cursor returned by this listing');
  });
});
