import type { z } from 'zod';
import { isStorable, UNSTORABLE_REASON } from '../domain/text';
import { ValidationFailed } from './errors';

/** Maps zod issues to {field, reason} pairs, the field as a dotted path ("data.invoice.currency"). */
export function describeIssues(issues: z.core.$ZodIssue[], prefix = ''): { field: string; reason: string }[] {
  return issues.map((issue) => {
    const path = issue.path
      .map((part) => (typeof part === 'number' ? `[${part}]` : String(part)))
      .join('.')
      .replace(/\.\[/g, '[');
    const field = [prefix, path].filter(Boolean).join('.') || prefix || 'body';
    return { field, reason: issue.message };
  });
}

/**
 * The path of a `__proto__` key in parsed JSON, if any. JSON.parse makes it an own key, which
 * validation would drop silently where every unknown field is said to be refused.
 */
export function protoKey(value: unknown, prefix = '', depth = 0): string | null {
  if (typeof value !== 'object' || value === null || depth > 32) return null;
  for (const key of Object.keys(value)) {
    const path = Array.isArray(value) ? `${prefix}[${key}]` : [prefix, key].filter(Boolean).join('.');
    if (key === '__proto__') return path;
    const inner = protoKey((value as Record<string, unknown>)[key], path, depth + 1);
    if (inner) return inner;
  }
  return null;
}

export const PROTO_REASON = 'is not a field (a __proto__ key is refused)';

/** The path of the first string (key or value) PostgreSQL could not store, if any. */
export function unstorableText(value: unknown, prefix = '', depth = 0): string | null {
  if (typeof value === 'string') return isStorable(value) ? null : prefix || 'body';
  if (typeof value !== 'object' || value === null || depth > 32) return null;
  for (const [key, inner] of Object.entries(value)) {
    const path = Array.isArray(value) ? `${prefix}[${key}]` : [prefix, key].filter(Boolean).join('.');
    if (!isStorable(key)) return path;
    const found = unstorableText(inner, path, depth + 1);
    if (found) return found;
  }
  return null;
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const proto = protoKey(value, prefix);
  if (proto) throw new ValidationFailed([{ field: proto, reason: PROTO_REASON }]);
  const unstorable = unstorableText(value, prefix);
  if (unstorable) throw new ValidationFailed([{ field: unstorable, reason: UNSTORABLE_REASON }]);
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationFailed(describeIssues(result.error.issues, prefix));
  return result.data;
}
