import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { newSecret, SECRET_PATTERN, SecretBox } from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32).toString('hex'));
  const secret = newSecret();

  it('opens what it sealed, for the same endpoint only', () => {
    const sealed = box.seal('endpoint-a', secret);
    expect(sealed).not.toContain(secret.slice(6));
    expect(box.open('endpoint-a', sealed)).toBe(secret);
    expect(() => box.open('endpoint-b', sealed)).toThrow();
  });

  it('does not open under another key, nor a tampered seal', () => {
    const sealed = box.seal('endpoint-a', secret);
    expect(() => new SecretBox(randomBytes(32).toString('hex')).open('endpoint-a', sealed)).toThrow();
    const [version, iv, tag, data] = sealed.split('.');
    const flipped = Buffer.from(data!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => box.open('endpoint-a', [version, iv, tag, flipped.toString('base64url')].join('.'))).toThrow();
    expect(() => box.open('endpoint-a', 'plain')).toThrow('not a sealed webhook secret');
  });

  it('seals the same secret differently each time (a fresh nonce)', () => {
    expect(box.seal('endpoint-a', secret)).not.toBe(box.seal('endpoint-a', secret));
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new SecretBox('abcd')).toThrow(RangeError);
  });
});

describe('newSecret', () => {
  it('makes Standard Webhooks secrets that the library signs with', () => {
    const secret = newSecret();
    expect(secret).toMatch(SECRET_PATTERN);
    expect(secret).not.toBe(newSecret());
    expect(new Webhook(secret).sign('msg_1', new Date(0), '{}')).toMatch(/^v1,/);
  });
});
