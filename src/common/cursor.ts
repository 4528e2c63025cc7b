import { z } from 'zod';
import { ValidationFailed } from './errors';

/** Opaque keyset cursors for list endpoints. */
export const encodeCursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');

/**
 * The shapes of this service's cursors: a keyset position (an instant and an id), or a sequence
 * number or offset. Each part is checked, so a forged cursor never reaches SQL or Redis.
 */
export const CURSOR = {
  /** [createdAt-like instant, uuid] */
  instantAndId: z.tuple([z.iso.datetime(), z.uuid()]),
  /** [a touch's or item's seq, or a page offset]: a non-negative 32-bit integer */
  position: z.tuple([
    z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
  ]),
};

/** A cursor this service issued, of the given shape, or a 400: a bad cursor must not silently restart the listing. */
export function decodeCursor<S extends z.ZodType<unknown[]>>(cursor: string, shape: S): z.output<S> {
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through to the validation error
  }
  throw new ValidationFailed([{ field: 'query.cursor', reason: 'is not a cursor returned by this listing' }]);
}

/**
 * A page of a keyset listing that fetched `limit + 1` rows: the first `limit`, and the cursor
 * (from the last of them) when the extra row shows there is more.
 */
export function pageOf<T>(rows: readonly T[], limit: number, cursorOf: (last: T) => unknown[]): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}
