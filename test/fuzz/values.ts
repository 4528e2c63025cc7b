/**
 * What a generated request is made of before it is sent: plain JSON values plus a few tokens that are
 * resolved at send time (a value unique to the run, an id the server handed out earlier, an instant
 * relative to the start of the run, a JSON literal JavaScript cannot hold, a very long array), and
 * the serializer that turns them into the exact bytes sent.
 */

/** A JSON literal sent verbatim: `1e400`, `123456789012345678901234567890`, `-0`, a deeply nested value. */
export class Raw {
  constructor(readonly text: string) {}
}

/** A value unique to the run, `<prefix>-<run>-<n>`: a new event id, invoice, payment. */
export class Fresh {
  constructor(readonly prefix: string) {}
}

/** Something the server answered earlier (a case id, an invoice, a cursor); `fallback` while the pool is empty. */
export class Pooled {
  constructor(
    readonly pool: PoolName,
    readonly index: number,
    readonly fallback: string,
  ) {}
}

/** An instant `offsetMs` from the start of the run, as an ISO instant or as its UTC calendar date. */
export class Instant {
  constructor(
    readonly offsetMs: number,
    readonly form: 'instant' | 'date',
  ) {}
}

/** `count` copies of `value` in an array, kept short in the generated value so that shrinking stays cheap. */
export class Repeat {
  constructor(
    readonly value: unknown,
    readonly count: number,
  ) {}
}

export const POOLS = [
  'caseId',
  'holdId',
  'letterId',
  'batchId',
  'workItemId',
  'jobId',
  'invoice',
  'debtor',
  'eventId',
  'paymentId',
  'cursor',
  'token',
] as const;
export type PoolName = (typeof POOLS)[number];

/** What resolution needs: the pools, the run's tag and counter, and the instant the run started. */
export interface ResolveContext {
  pools: Record<PoolName, string[]>;
  runTag: string;
  counter: { next: number };
  startedAt: number;
}

/** Defines an own, enumerable property, even for `__proto__` (an assignment would set the prototype instead). */
export function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function resolveToken(token: Fresh | Pooled | Instant, ctx: ResolveContext): string {
  if (token instanceof Fresh) return `${token.prefix}-${ctx.runTag}-${ctx.counter.next++}`;
  if (token instanceof Pooled) {
    const pool = ctx.pools[token.pool];
    return pool.length === 0 ? token.fallback : pool[token.index % pool.length]!;
  }
  const iso = new Date(ctx.startedAt + token.offsetMs).toISOString();
  return token.form === 'date' ? iso.slice(0, 10) : iso;
}

/** The value as a string, for a path, query or header: tokens resolved, anything else as JSON would spell it. */
export function resolveText(value: unknown, ctx: ResolveContext): string {
  if (value instanceof Fresh || value instanceof Pooled || value instanceof Instant) return resolveToken(value, ctx);
  if (typeof value === 'string') return value;
  if (value instanceof Raw) return value.text;
  return serialize(value, ctx);
}

/**
 * The JSON text of a value with its tokens resolved. Strings go through JSON.stringify, which
 * writes NUL as \u0000 and a lone surrogate as \udxxx, so both reach the server's parser as such.
 */
export function serialize(value: unknown, ctx: ResolveContext): string {
  const parts: string[] = [];
  const write = (v: unknown): void => {
    if (v instanceof Raw) parts.push(v.text);
    else if (v instanceof Fresh || v instanceof Pooled || v instanceof Instant) parts.push(JSON.stringify(resolveToken(v, ctx)));
    else if (v instanceof Repeat) {
      parts.push('[');
      for (let i = 0; i < v.count; i++) {
        if (i > 0) parts.push(',');
        write(v.value);
      }
      parts.push(']');
    } else if (Array.isArray(v)) {
      parts.push('[');
      v.forEach((item, i) => {
        if (i > 0) parts.push(',');
        write(item);
      });
      parts.push(']');
    } else if (v !== null && typeof v === 'object') {
      parts.push('{');
      Object.keys(v).forEach((key, i) => {
        if (i > 0) parts.push(',');
        parts.push(JSON.stringify(key), ':');
        write((v as Record<string, unknown>)[key]);
      });
      parts.push('}');
    } else if (v === undefined) parts.push('null');
    else parts.push(JSON.stringify(v) ?? 'null');
  };
  write(value);
  return parts.join('');
}

/** Percent-encodes a path segment or query part byte by byte; a lone surrogate becomes the bytes UTF-8 forbids for it. */
export function percentEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const isHigh = code >= 0xd800 && code <= 0xdbff;
    const next = text.charCodeAt(i + 1);
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      // What a careless client's encoder writes for an unpaired surrogate: CESU-style bytes, invalid UTF-8.
      out += `%${(0xe0 | (code >> 12)).toString(16).toUpperCase()}%${(0x80 | ((code >> 6) & 0x3f)).toString(16).toUpperCase()}%${(0x80 | (code & 0x3f)).toString(16).toUpperCase()}`;
    } else {
      out += encodeURIComponent(text[i]!);
    }
  }
  return out;
}

/** Base64url of a text, as the service spells its cursors. */
export const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
