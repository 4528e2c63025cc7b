import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhookSignature } from './webhook-signature';

const secret = 'agency-secret-0123456789';
const body = JSON.stringify({ type: 'agency.placement', placementId: 'p-1', balance: '1250.00', debtor: { name: 'Ana Debtor' } });
const t = 1_764_200_000;
const at = (seconds: number) => new Date(seconds * 1000);

describe('webhook signatures', () => {
  it('signs "<t>.<body>" with HMAC-SHA256 as t=…,v1=<hex>', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signWebhook(secret, t, body)).toBe(`t=${t},v1=${expected}`);
  });

  it('signs the same bytes whether given as a string or a Buffer', () => {
    expect(signWebhook(secret, t, Buffer.from(body, 'utf8'))).toBe(signWebhook(secret, t, body));
  });

  it('refuses a timestamp that is not whole unix seconds', () => {
    expect(() => signWebhook(secret, 1.5, body)).toThrow(RangeError);
    expect(() => signWebhook(secret, -1, body)).toThrow(RangeError);
  });

  it('verifies its own signature within the tolerance, on either side of now', () => {
    const header = signWebhook(secret, t, body);
    expect(verifyWebhookSignature(secret, header, body, 300, at(t))).toBe(true);
    expect(verifyWebhookSignature(secret, header, Buffer.from(body), 300, at(t + 300))).toBe(true);
    expect(verifyWebhookSignature(secret, header, body, 300, at(t - 300))).toBe(true);
  });

  it('refuses a stale or far-future signature (a replay)', () => {
    const header = signWebhook(secret, t, body);
    expect(verifyWebhookSignature(secret, header, body, 300, at(t + 301))).toBe(false);
    expect(verifyWebhookSignature(secret, header, body, 300, at(t - 301))).toBe(false);
  });

  it('refuses another secret, a changed body, or a timestamp moved without re-signing', () => {
    const header = signWebhook(secret, t, body);
    expect(verifyWebhookSignature('another-secret-0123456789', header, body, 300, at(t))).toBe(false);
    expect(verifyWebhookSignature(secret, header, body.replace('1250.00', '1.00'), 300, at(t))).toBe(false);
    expect(verifyWebhookSignature(secret, header.replace(`t=${t}`, `t=${t + 1}`), body, 300, at(t))).toBe(false);
  });

  it('accepts any one matching v1 among several (secret rotation) and ignores unknown schemes', () => {
    const current = signWebhook(secret, t, body).split(',')[1];
    const old = signWebhook('old-secret-0123456789abc', t, body).split(',')[1];
    expect(verifyWebhookSignature(secret, `t=${t},${old},${current},v0=abc`, body, 300, at(t))).toBe(true);
    expect(verifyWebhookSignature(secret, `t=${t}, ${current}`, body, 300, at(t))).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['no timestamp', `v1=${'a'.repeat(64)}`],
    ['no v1', `t=${t}`],
    ['two timestamps', `t=${t},t=${t},v1=${'a'.repeat(64)}`],
    ['non-numeric timestamp', `t=abc,v1=${'a'.repeat(64)}`],
    ['short v1', `t=${t},v1=abcd`],
    ['not key=value', `t=${t},garbage`],
  ])('refuses a malformed header (%s)', (_, header) => {
    expect(verifyWebhookSignature(secret, header, body, 300, at(t))).toBe(false);
  });
});
