import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isPublicAddress, urlProblem } from './public-address';

/** What one POST came to; never the body that was sent. */
export interface PostOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** At most EXCERPT_CHARS of the answer, when asked for. */
  excerpt: string | null;
  /** No later attempt can succeed (a refusing 4xx, a refused address): retries end at once. */
  permanent: boolean;
}

export interface PostOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  /** Keep the start of the answer for the delivery log (off where the body carries personal data a receiver may echo). */
  keepExcerpt: boolean;
  /** Who answers, in the error: "the agency answered HTTP 500". */
  receiver: string;
}

export const EXCERPT_CHARS = 200;
/** Client errors that a later attempt may cure; any other 4xx (a bad signature, a bad URL) will not be. */
const RETRYABLE_4XX = new Set([408, 425, 429]);

/** DNS that refuses non-public answers, checked at connect so that a name cannot re-resolve past the check (rebinding). */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const list = addresses;
    const refused = list.find((entry) => !isPublicAddress(entry.address));
    if (refused || list.length === 0) {
      const blocked = Object.assign(new Error(`${hostname} resolves to a non-public address (WEBHOOK_ALLOW_PRIVATE is off)`), { code: 'EADDRNOTPUBLIC' });
      return callback(blocked, '', 0);
    }
    if (options.all) return (callback as unknown as (error: null, list: LookupAddress[]) => void)(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
};

/**
 * POSTs one webhook body. Never throws and never follows a redirect (it would re-send the body to
 * an address nobody configured); a 3xx is a failure like any other non-2xx. Bounded by the
 * timeout from connect to the last byte of the answer, of which at most EXCERPT_CHARS are read.
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, options: PostOptions): Promise<PostOutcome> {
  const started = performance.now();
  const done = (outcome: Omit<PostOutcome, 'durationMs'>): PostOutcome => ({ ...outcome, durationMs: Math.round(performance.now() - started) });
  const refused = urlProblem(url, options.allowPrivate);
  if (refused) return Promise.resolve(done({ ok: false, statusCode: null, error: `the URL ${refused}`, excerpt: null, permanent: true }));
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<PostOutcome, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(done(outcome));
    };
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) },
        lookup: options.allowPrivate ? undefined : publicOnlyLookup,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        const permanent = status >= 400 && status < 500 && !RETRYABLE_4XX.has(status);
        const error = ok ? null : `the ${options.receiver} answered HTTP ${status}`;
        if (!options.keepExcerpt) {
          res.destroy();
          return finish({ ok, statusCode: status, error, excerpt: null, permanent });
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.length >= EXCERPT_CHARS) res.destroy();
        });
        const end = () => finish({ ok, statusCode: status, error, excerpt: text.slice(0, EXCERPT_CHARS) || null, permanent });
        res.on('end', end);
        res.on('close', end);
        res.on('error', end);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({ ok: false, statusCode: null, error: `no answer within ${options.timeoutMs / 1000} s`, excerpt: null, permanent: false });
    }, options.timeoutMs);
    req.on('error', (error: Error & { code?: string }) => {
      const permanent = error.code === 'EADDRNOTPUBLIC';
      finish({ ok: false, statusCode: null, error: error.message, excerpt: null, permanent });
    });
    req.end(body);
  });
}
