import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ApiKeyRing } from '../common/auth/api-keys';
import { basicKey, refusePage } from '../common/auth/basic-auth';

/**
 * The docs are served by Express routes, which Nest's ApiKeyGuard never sees: this is their whole
 * protection. Any role may read them, with `Authorization: Bearer <secret>` (scripts) or HTTP
 * Basic `<key name>:<secret>` (a browser, which cannot send a bearer header to open a page).
 */
export function docsAuth(keys: ApiKeyRing): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const key = bearer ? keys.find(bearer) : basicKey(keys, req.headers.authorization);
    if (!key) {
      refusePage(res, 401, 'the API docs need an API key: Authorization: Bearer <key>, or HTTP Basic with the key name and secret');
      // Answered: the docs must not be served after a refusal.
      return;
    }
    next();
  };
}
