import { ValidationFailed } from './errors';

/** Opaque keyset cursors for list endpoints. */
export const encodeCursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');

/** A cursor this service issued, or a 400: a bad cursor must not silently restart the listing. */
export function decodeCursor<T extends unknown[]>(cursor: string, length: number): T {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === length) return parsed as T;
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
