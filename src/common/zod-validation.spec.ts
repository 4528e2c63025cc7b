import { z } from 'zod';
import { ValidationFailed } from './errors';
import { parseOrThrow } from './zod-validation';

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
});
