import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import type { ApiKeyRing } from './auth/api-keys';

/**
 * The content policy of the HTML pages: their own scripts and styles only, which Swagger UI and
 * the queue dashboard write inline. A page that needs no inline script tightens it (see
 * ReportsPageModule).
 */
export const PAGE_POLICY_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'", "'unsafe-inline'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
  baseUri: ["'self'"],
  objectSrc: ["'none'"],
};

/**
 * Headers on every response (helmet): no MIME sniffing, no framing (the unsubscribe page, /docs,
 * /admin/queues and /reports), the pages' content policy, no referrer leaving a page that carries
 * a token. API reads are personal data: `Cache-Control: no-store` unless a route says otherwise.
 */
export function securityHeaders(): RequestHandler[] {
  return [
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: PAGE_POLICY_DIRECTIVES },
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginEmbedderPolicy: false,
    }),
    (req: Request, res: Response, next: NextFunction) => {
      if (req.path.startsWith('/v1/')) res.setHeader('Cache-Control', 'no-store');
      next();
    },
  ];
}

/** Bodies above this are parsed only for a caller presenting a known API key. */
export const ANONYMOUS_BODY_LIMIT = 64 * 1024;

/**
 * Refuses, before parsing, a large body from a caller without a known key: an anonymous client
 * cannot make the server parse megabytes. Smaller bodies go on to the guard as before. Provider
 * routes (`signedRoutes`) carry no key and are bounded where they are read; under a public prefix
 * (routes a key never opens, such as the debtor's page) the body is too large, not unauthorised: 413.
 */
export function keyBeforeLargeBody(
  keys: ApiKeyRing,
  { signedRoutes = [], publicPrefixes = [] }: { signedRoutes?: readonly string[]; publicPrefixes?: readonly string[] } = {},
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // Read already, under their own bound: a provider's signature authenticates them, not a key.
    if (signedRoutes.includes(req.path)) return next();
    const length = Number(req.headers['content-length'] ?? 0);
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (length <= ANONYMOUS_BODY_LIMIT && !chunked) return next();
    if (publicPrefixes.some((prefix) => req.path.startsWith(prefix))) {
      res.status(413).json({ statusCode: 413, error: 'Payload Too Large', message: `body: at most ${ANONYMOUS_BODY_LIMIT} bytes on this route` });
      return;
    }
    const key = keys.bearer(req.headers.authorization);
    if (!('refusal' in key)) return next();
    res.status(401).json({ statusCode: 401, error: 'Unauthorized', message: key.refusal });
  };
}
