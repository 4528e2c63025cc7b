import { z } from 'zod';
import './zod-words';

/** The message a caller reads for `value` against `schema`. */
const reason = (schema: z.ZodType, value: unknown) => {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected a failure');
  return result.error.issues[0]!.message;
};

describe('zod messages in words', () => {
  it.each([
    ['a missing text', z.object({ name: z.string() }), {}, 'is required: text'],
    ['a number for text', z.string(), 5, 'must be text, not a number'],
    ['text for a number', z.number(), '5', 'must be a number, not text'],
    ['text coerced to a number', z.coerce.number(), 'eighty', 'must be a number'],
    ['null for an object', z.object({}), null, 'must be an object, not null'],
    ['an object for a list', z.array(z.string()), {}, 'must be a list, not an object'],
    ['a short text', z.string().min(3), 'ab', 'must have at least 3 characters'],
    ['a long list', z.array(z.number()).max(2), [1, 2, 3], 'must have at most 2 items'],
    ['a small number', z.number().positive(), 0, 'must be more than 0'],
    ['a big number', z.number().max(10), 11, 'must be at most 10'],
    ['an exact length', z.string().length(2), 'abc', 'must have exactly 2 characters'],
    ['an unknown choice', z.enum(['email', 'sms']), 'fax', 'must be one of "email", "sms"'],
    ['a wrong literal', z.literal('invoice.overdue'), 'x', 'must be "invoice.overdue"'],
    ['a bad email', z.email(), 'nope', 'must be an email address'],
    ['a bad UUID', z.uuid(), 'nope', 'must be a UUID such as 3f2c6a1e-9a55-4b7e-8d0f-0c6c1c1b2a10'],
    ['a bad date-time', z.iso.datetime(), 'yesterday', 'must be an ISO-8601 date and time such as 2026-12-01T10:00:00Z'],
    ['a pattern without words', z.string().regex(/^[A-Z]{3}$/), 'eur', 'does not have the expected form (/^[A-Z]{3}$/)'],
    ['no form of a union', z.union([z.string(), z.number()]), true, 'does not match any of the accepted forms'],
  ])('%s', (_, schema, value, expected) => {
    expect(reason(schema as z.ZodType, value)).toBe(expected);
  });

  it("keeps a schema's own message", () => {
    expect(reason(z.string().min(3, 'must be a currency code such as EUR'), 'x')).toBe('must be a currency code such as EUR');
  });
});
