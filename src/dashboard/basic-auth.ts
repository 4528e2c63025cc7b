import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ApiKeyRing } from '../common/auth/api-keys';
import { BASIC_REALM, basicKey } from '../common/auth/basic-auth';

/** Roles that get the board with its actions; auditors get the read-only board. */
const OPERATING_ROLES = new Set(['operator', 'admin']);
const SAFE_METHODS = new Set(['GET', 'HEAD']);

function refuse(res: Response, status: 401 | 403 | 404, message: string): void {
  if (status === 401) res.setHeader('WWW-Authenticate', BASIC_REALM);
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).json({ statusCode: status, error: status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found', message });
}

/**
 * The whole protection of the board: Nest's global ApiKeyGuard does not run for middleware routes.
 * Operators and admins go on to the full board; auditors are served by the read-only board and may
 * only read; every other role is refused. Every refusal returns: the board must not run after it.
 */
export function dashboardAuth(keys: ApiKeyRing, readOnlyBoard: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const key = basicKey(keys, req.headers.authorization);
    if (!key) {
      refuse(res, 401, 'the queue dashboard needs HTTP Basic credentials: an API key name and its secret');
      return;
    }
    if (OPERATING_ROLES.has(key.role)) {
      next();
      return;
    }
    if (key.role !== 'auditor') {
      refuse(res, 403, `role "${key.role}" may not use the queue dashboard (allowed: operator, admin; auditor read-only)`);
      return;
    }
    if (!SAFE_METHODS.has(req.method)) {
      refuse(res, 403, "the auditor's dashboard is read-only");
      return;
    }
    // What the read-only board does not serve must not fall through to the full board.
    readOnlyBoard(req, res, (error?: unknown) => (error ? next(error) : refuse(res, 404, 'not found')));
  };
}
