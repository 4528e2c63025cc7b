import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';

/** Nest's boot lines, one per module and per route (about a hundred): kept at debug so the service's own stay visible. */
const FRAMEWORK_CHATTER = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/** The app's logger, with Nest's boot chatter moved from info to debug. */
export function quietFramework(logger: LoggerService & { debug(message: unknown, ...params: unknown[]): void }): LoggerService {
  return {
    log(message: unknown, ...params: unknown[]) {
      const context = params.at(-1);
      if (typeof context === 'string' && FRAMEWORK_CHATTER.has(context)) logger.debug(message, ...params);
      else logger.log(message, ...params);
    },
    error(message: unknown, ...params: unknown[]) {
      logger.error(message, ...params);
    },
    warn(message: unknown, ...params: unknown[]) {
      logger.warn(message, ...params);
    },
    debug(message: unknown, ...params: unknown[]) {
      logger.debug(message, ...params);
    },
    verbose(message: unknown, ...params: unknown[]) {
      logger.verbose?.(message, ...params);
    },
    fatal(message: unknown, ...params: unknown[]) {
      logger.fatal?.(message, ...params);
    },
  };
}

/** A caller's request id is kept when it is a plain token (a UUID, a trace id); anything else is replaced. */
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The request's id: the caller's `X-Request-Id` if sane, else a new UUID. */
export function requestId(header: string | string[] | undefined): string {
  const presented = Array.isArray(header) ? header[0] : header;
  return presented !== undefined && SANE_REQUEST_ID.test(presented) ? presented : randomUUID();
}

/** pino-http's `genReqId`: every HTTP log line carries the id, and the response returns it. */
export function genReqId(req: IncomingMessage, res: ServerResponse): string {
  const id = requestId(req.headers['x-request-id']);
  res.setHeader('X-Request-Id', id);
  return id;
}

/** Keys that hold personal data (debtor and guarantor names, addresses, message bodies) wherever they appear. */
export const PERSONAL_KEYS = ['email', 'phone', 'name', 'address', 'recipient', 'to', 'text'] as const;

/**
 * pino redaction paths for `keys` at the top level and up to `depth` levels down. pino has no
 * "any depth" wildcard (`*.email` is exactly one level), so each level is listed.
 */
export function redactionPaths(keys: readonly string[], depth = 3): string[] {
  const paths: string[] = [];
  for (let level = 0; level <= depth; level++) for (const key of keys) paths.push(`${'*.'.repeat(level)}${key}`);
  return paths;
}

/** Paths that carry a credential: the debtor's unsubscribe token opens their opt-out. */
const TOKEN_IN_PATH = /^(\/v1\/unsubscribe\/)[^/?]+/;

/** A request path as logs show it: no query string (it can carry debtor references), no tokens. */
export function loggedPath(url: string): string {
  return url.split('?')[0]!.replace(TOKEN_IN_PATH, '$1[redacted]');
}
