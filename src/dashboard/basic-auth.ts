import type { RequestHandler } from 'express';
import type { ApiKeyRing } from '../common/auth/api-keys';
import { basicAuthPage, refusePage } from '../common/auth/basic-auth';

/** Roles that get the board with its actions; auditors get the read-only board. */
const OPERATING_ROLES = new Set(['operator', 'admin']);
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The whole protection of the board (see basicAuthPage). Operators and admins go on to the full
 * board; auditors are served by the read-only board and may only read; every other role is
 * refused. Every refusal returns: the board must not run after it.
 */
export function dashboardAuth(keys: ApiKeyRing, readOnlyBoard: RequestHandler): RequestHandler {
  return basicAuthPage(keys, 'the queue dashboard', ['operator', 'admin', 'auditor'], (key, req, res, next) => {
    if (OPERATING_ROLES.has(key.role)) {
      next();
      return;
    }
    if (!SAFE_METHODS.has(req.method)) {
      refusePage(res, 403, "the auditor's dashboard is read-only");
      return;
    }
    // What the read-only board does not serve must not fall through to the full board.
    readOnlyBoard(req, res, (error?: unknown) => (error ? next(error) : refusePage(res, 404, 'not found')));
  });
}
