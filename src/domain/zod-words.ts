import { z } from 'zod';

/** Type names as a caller reads them; zod's own ("expected string, received undefined") are for programmers. */
const KINDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  date: 'a date',
  null: 'null',
  undefined: 'nothing',
};

const FORMATS: Record<string, string> = {
  email: 'an email address',
  url: 'a URL',
  uuid: 'a UUID such as 3f2c6a1e-9a55-4b7e-8d0f-0c6c1c1b2a10',
  datetime: 'an ISO-8601 date and time such as 2026-12-01T10:00:00Z',
  date: 'an ISO-8601 date such as 2026-12-01',
  time: 'an ISO-8601 time such as 10:00:00',
  duration: 'an ISO-8601 duration such as P10D',
};

const UNITS: Record<string, string> = { string: 'characters', array: 'items', set: 'items', map: 'entries' };

function kindOf(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  return KINDS[typeof input] ?? typeof input;
}

const quoted = (value: unknown) => (typeof value === 'string' ? `"${value}"` : String(value));

/** A bound as words: "at least 3 characters", "more than 0", "at most 100 items". */
function bound(side: 'min' | 'max', issue: { origin?: string; inclusive?: boolean; exact?: boolean }, limit: number | bigint | Date): string {
  const unit = issue.origin ? UNITS[issue.origin] : undefined;
  const at = issue.exact ? 'exactly' : side === 'min' ? (issue.inclusive ? 'at least' : 'more than') : issue.inclusive ? 'at most' : 'less than';
  const value = limit instanceof Date ? limit.toISOString() : String(limit);
  return unit ? `must have ${at} ${value} ${unit}` : `must be ${at} ${value}`;
}

/**
 * Every message zod would word for a programmer, worded for the caller: what the field must be.
 * Messages a schema states itself come first (zod's order); anything unforeseen falls back to zod's.
 */
export function inWords(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = KINDS[issue.expected] ?? issue.expected;
      if (issue.input === undefined) return `is required: ${expected}`;
      // A coerced value that is not a number reaches zod as NaN, its text already lost.
      return Number.isNaN(issue.input) ? `must be ${expected}` : `must be ${expected}, not ${kindOf(issue.input)}`;
    }
    case 'too_small':
      return bound('min', issue, issue.minimum);
    case 'too_big':
      return bound('max', issue, issue.maximum);
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${quoted(issue.values[0])}` : `must be one of ${issue.values.map(quoted).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'regex') return `does not have the expected form (${String(issue.pattern)})`;
      return FORMATS[issue.format] ? `must be ${FORMATS[issue.format]}` : undefined;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'does not match any of the accepted forms';
    default:
      return undefined;
  }
}

// Installed once for every schema in the process: the HTTP API's, the config's and the files'.
z.config({ customError: inWords });
