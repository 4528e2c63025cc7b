import type { z } from 'zod';
import '../domain/zod-words';
import { isStorable, UNSTORABLE_REASON } from '../domain/text';
import { ValidationFailed } from './errors';

/** An error stays small whatever was sent: at most this many problems are listed, in at most this many characters. */
export const MAX_LISTED_PROBLEMS = 10;
const LISTED_CHARACTERS = 2000;
/** A key quoted back (in a field path or a reason) is cut to this length. */
const MAX_KEY_SHOWN = 40;
const UNKNOWN_KEYS_SHOWN = 3;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** "Unrecognized keys" naming the first few, cut short, and counting the others: zod's own message lists every one. */
function unknownKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, UNKNOWN_KEYS_SHOWN).map((key) => JSON.stringify(clip(key, MAX_KEY_SHOWN)));
  const more = keys.length > UNKNOWN_KEYS_SHOWN ? ` and ${keys.length - UNKNOWN_KEYS_SHOWN} more` : '';
  return `Unrecognized key${keys.length === 1 ? '' : 's'}: ${shown.join(', ')}${more}`;
}

/**
 * Maps zod issues to {field, reason} pairs, the field as a dotted path ("data.invoice.currency").
 * A body can hold thousands of problems (a 5000-item array of wrong items, a query with a
 * thousand unknown parameters): the first ones are listed, the rest counted in a last entry.
 */
export function describeIssues(issues: z.core.$ZodIssue[], prefix = ''): { field: string; reason: string }[] {
  const details = issues.map((issue) => {
    const path = issue.path
      .map((part) => (typeof part === 'number' ? `[${part}]` : clip(String(part), MAX_KEY_SHOWN)))
      .join('.')
      .replace(/\.\[/g, '[');
    const field = [prefix, path].filter(Boolean).join('.') || prefix || 'body';
    return { field, reason: issue.code === 'unrecognized_keys' ? unknownKeys(issue.keys) : clip(issue.message, 300) };
  });
  return listed(details, prefix || 'body');
}

/** The first problems, as many as fit, and a last entry counting the others. */
function listed(details: { field: string; reason: string }[], location: string): { field: string; reason: string }[] {
  const kept: { field: string; reason: string }[] = [];
  let size = 0;
  for (const detail of details) {
    size += detail.field.length + detail.reason.length;
    if (kept.length === MAX_LISTED_PROBLEMS - 1 && details.length > MAX_LISTED_PROBLEMS) break;
    if (size > LISTED_CHARACTERS && kept.length > 0) break;
    kept.push(detail);
  }
  const rest = details.length - kept.length;
  return rest > 0 ? [...kept, { field: location, reason: `and ${rest} more problem${rest === 1 ? '' : 's'}` }] : kept;
}

/**
 * The path of a `__proto__` key in parsed JSON, if any. JSON.parse makes it an own key, which
 * validation would drop silently where every unknown field is said to be refused.
 */
export function protoKey(value: unknown, prefix = '', depth = 0): string | null {
  if (typeof value !== 'object' || value === null || depth > 32) return null;
  for (const key of Object.keys(value)) {
    const path = Array.isArray(value) ? `${prefix}[${key}]` : [prefix, clip(key, MAX_KEY_SHOWN)].filter(Boolean).join('.');
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
    const path = Array.isArray(value) ? `${prefix}[${key}]` : [prefix, clip(key, MAX_KEY_SHOWN)].filter(Boolean).join('.');
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
