import { ValidationFailed } from './errors';

/** Opaque keyset cursors for list endpoints. */
export const encodeCursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');

/** A cursor this service issued, or a 400: a bad cursor must not silently restart the listing. */
export function decodeCursor<T extends unknown[]>(cursor: string, length: number): T {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === length) return parsed as T;
  } catch {
    // fall through to the validation error
  }
  throw new ValidationFailed([{ field: 'query.cursor', reason: 'is not a cursor returned by this listing' }]);
}
