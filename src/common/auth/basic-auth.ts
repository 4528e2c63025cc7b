import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ApiKey, Role } from '../../config/config.schema';
import type { ApiKeyRing } from './api-keys';

/** The challenge of every page that takes HTTP Basic (the queue dashboard, the reports page, the API docs). */
export const BASIC_REALM = 'Basic realm="dunning"';

/**
 * The key named by HTTP Basic credentials: the user is the key's name, the password its secret.
 * The secret is looked up in constant time; the name must then match the key it found.
 */
export function basicKey(keys: ApiKeyRing, authorization: string | undefined): ApiKey | undefined {
  const encoded = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(authorization ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  // Secrets may contain ':' (see ApiKeyRing's tests); names may not (API_KEYS is name:role:secret).
  const key = keys.find(decoded.slice(colon + 1));
  return key && key.name === decoded.slice(0, colon) ? key : undefined;
}

const REASONS = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' } as const;

/** A page's refusal in the API's error shape; a 401 carries the Basic challenge. The caller returns after it. */
export function refusePage(res: Response, status: keyof typeof REASONS, message: string): void {
  if (status === 401) res.setHeader('WWW-Authenticate', BASIC_REALM);
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).json({ statusCode: status, error: REASONS[status], message });
}

/** What runs once a page has admitted a key; by default the page itself. */
export type Admitted = (key: ApiKey, req: Request, res: Response, next: NextFunction) => void;

/**
 * HTTP Basic (a key's name and secret) in front of a page a browser opens: Nest's global
 * ApiKeyGuard does not run for middleware routes, so this is the page's whole protection. No
 * valid credentials is a 401 with the challenge, a role outside `roles` a 403; an admitted key
 * goes on to `admitted`. Every refusal returns: the page must not run after it.
 */
export function basicAuthPage(keys: ApiKeyRing, page: string, roles: readonly Role[], admitted: Admitted = (_key, _req, _res, next) => next()): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const key = basicKey(keys, req.headers.authorization);
    if (!key) {
      refusePage(res, 401, `${page} needs HTTP Basic credentials: an API key name and its secret`);
      return;
    }
    if (!roles.includes(key.role)) {
      refusePage(res, 403, `role "${key.role}" may not use ${page} (allowed: ${roles.join(', ')})`);
      return;
    }
    admitted(key, req, res, next);
  };
}
