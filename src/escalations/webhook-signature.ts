import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signing of outbound webhooks, in the widely used "t=…,v1=…" form, so that a receiver can check
 * both who sent a body and that it is fresh (a replayed old delivery fails the tolerance).
 * Pure: the receiver's side (`verifyWebhookSignature`) is exported for agencies and tests.
 */

export const SIGNATURE_HEADER = 'X-Dunning-Signature';
/** The delivery's stable id: the same on every retry, so the receiver can drop duplicates. */
export const DELIVERY_HEADER = 'X-Dunning-Delivery';

const digest = (secret: string, timestamp: number | string, body: string | Buffer): Buffer =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export function signWebhook(secret: string, timestamp: number, body: string | Buffer): string {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError('timestamp must be whole unix seconds');
  return `t=${timestamp},v1=${digest(secret, timestamp, body).toString('hex')}`;
}

/**
 * True when `header` carries a v1 signature of exactly these raw body bytes under `secret`, made
 * within `toleranceSeconds` of `now` (either side, for clock skew). Several v1 entries are allowed
 * (a sender rotating its secret); one match suffices. Verify the raw bytes, never re-serialised JSON.
 */
export function verifyWebhookSignature(secret: string, header: string | undefined | null, body: string | Buffer, toleranceSeconds: number, now: Date): boolean {
  if (!header) return false;
  let timestamp: string | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) return false;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return false;
      timestamp = value;
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return false;
      signatures.push(Buffer.from(value, 'hex'));
    }
    // Other schemes (v0, future versions) are ignored, not refused.
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const expected = digest(secret, timestamp, body);
  // Compare every candidate in constant time; `some` may stop early, which reveals only which entry matched.
  return signatures.some((signature) => timingSafeEqual(signature, expected));
}
