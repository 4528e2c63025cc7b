import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../config/app-config';

/**
 * The debtor's self-service link: `<case id>.<issued, unix seconds>.<HMAC>`, signed with
 * SELF_SERVICE_SECRET. It names one case and nothing else, works for SELF_SERVICE_LINK_TTL after
 * it was issued, and an operator's revocation refuses every link of the case issued before it.
 * Pure: no store is asked to check a link, only to check its revocation.
 */

const TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;
/** A link issued this far ahead of the clock is from a clock that ran fast, not from us. */
const SKEW_MS = 5 * 60_000;

const mac = (secret: string, purpose: string, text: string): string =>
  createHmac('sha256', secret).update(`self-service.v1.${purpose}.${text}`).digest('base64url');

/**
 * Compares the text, not the decoded bytes: base64url's last character carries two spare bits, so
 * two spellings decode alike and an altered link could otherwise pass. Both are 43 ASCII characters.
 */
const same = (given: string, expected: string) => given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));

export function signSelfServiceToken(secret: string, caseId: string, issuedAt: Date): string {
  const issued = Math.floor(issuedAt.getTime() / 1000);
  return `${caseId}.${issued}.${mac(secret, 'link', `${caseId}.${issued}`)}`;
}

export function selfServiceLink(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/self-service/${token}`;
}

export type LinkCheck = { ok: true; caseId: string; issuedAt: Date } | { ok: false; reason: 'malformed' | 'altered' | 'expired' };

/** Checks shape, signature (in constant time) and age; says which failed, for the record, never to the visitor. */
export function verifySelfServiceToken(secret: string, token: string, now: Date, ttlMs: number): LinkCheck {
  const match = TOKEN.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, caseId, issued, signature] = match as unknown as [string, string, string, string];
  if (!same(signature, mac(secret, 'link', `${caseId}.${issued}`))) return { ok: false, reason: 'altered' };
  const issuedAt = new Date(Number(issued) * 1000);
  const age = now.getTime() - issuedAt.getTime();
  if (age > ttlMs || age < -SKEW_MS) return { ok: false, reason: 'expired' };
  return { ok: true, caseId, issuedAt };
}

/** The page's form token: bound to the link, so a form from one link cannot be posted to another. */
export function selfServiceFormToken(secret: string, token: string): string {
  return mac(secret, 'form', token);
}

export function checkSelfServiceFormToken(secret: string, token: string, given: unknown): boolean {
  return typeof given === 'string' && same(given, mac(secret, 'form', token));
}

/** The link a message about `caseId` made at `now` carries; null while SELF_SERVICE_SECRET is unset. */
export function selfServiceUrl(config: Pick<AppConfig, 'SELF_SERVICE_SECRET' | 'PUBLIC_URL'>, caseId: string, now: Date): string | null {
  return config.SELF_SERVICE_SECRET ? selfServiceLink(config.PUBLIC_URL, signSelfServiceToken(config.SELF_SERVICE_SECRET, caseId, now)) : null;
}
