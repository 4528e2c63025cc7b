import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Response } from 'express';
import { DomainError, DomainErrorCode, isDependencyDown } from './errors';

const statusByCode = {
  validation: HttpStatus.BAD_REQUEST,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  unprocessable: HttpStatus.UNPROCESSABLE_ENTITY,
} satisfies Record<DomainErrorCode, HttpStatus>;

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown;
}

const MALFORMED_JSON: ErrorBody = {
  statusCode: 400,
  error: 'Bad Request',
  message: 'body: malformed JSON',
  details: [{ field: 'body', reason: 'malformed JSON' }],
};
const TOO_LARGE: ErrorBody = { statusCode: 413, error: 'Payload Too Large', message: 'body: request body too large' };
const BAD_PATH: ErrorBody = {
  statusCode: 400,
  error: 'Bad Request',
  message: 'path: a parameter is not valid percent-encoding',
  details: [{ field: 'path', reason: 'a parameter is not valid percent-encoding' }],
};
/** The codes zlib gives a body it could not decompress: gzip and deflate's, zstd's (Node 23.8 and later) and brotli's. */
const isDecompressionFault = (code: unknown) => typeof code === 'string' && /^(Z_|ZSTD_error|ERR__ERROR_|ERR_BROTLI)/.test(code);

/** A body the parser could not read (its encoding, charset or compression), said without the library's message. */
function unreadableBody(statusCode: number, type: string | undefined): ErrorBody {
  const reason =
    type === 'encoding.unsupported' || type === 'charset.unsupported'
      ? 'uses an encoding the service does not read'
      : 'could not be read (is its compression intact?)';
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message: `body: ${reason}`, details: [{ field: 'body', reason }] };
}

/**
 * Nest answers a route it does not serve with "Cannot <METHOD> <url>", the query included: an
 * error must stay small whatever was sent, so it names the method and the path, cut short.
 */
function unservedRoute(message: string): string {
  const route = /^Cannot ([A-Z]+) ([^?#]*)/.exec(message);
  if (!route) return message;
  const path = route[2]!.length > 200 ? `${route[2]!.slice(0, 200)}…` : route[2]!;
  return `Cannot ${route[1]} ${path}`;
}

/** One error shape for every route: {statusCode, error, message, details?}. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = toErrorBody(exception);
    if (body.statusCode === 503) {
      this.logger.warn(`${body.message}: ${(exception as Error)?.message ?? String(exception)}`);
      response.setHeader('Retry-After', '5');
    } else if (body.statusCode >= 500) {
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    }
    response.status(body.statusCode).json(body);
  }
}

/** Maps anything thrown by a route to the error body; a database or Redis outage is a 503 to retry. */
export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof DomainError) {
    const statusCode = statusByCode[exception.code];
    return {
      statusCode,
      error: STATUS_CODES[statusCode] ?? 'Error',
      message: exception.message,
      details: exception.details.length ? exception.details : undefined,
    };
  }
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    const cause = exception.cause ?? (exception as { originalError?: unknown }).originalError;
    // body-parser failures arrive as HttpExceptions wrapping the parser's error type.
    const parserType = (exception as unknown as { type?: string }).type ?? (cause as { type?: string } | undefined)?.type;
    if (statusCode === 400 && (parserType === 'entity.parse.failed' || /JSON/.test(exception.message))) return MALFORMED_JSON;
    if (statusCode === 413) return TOO_LARGE;
    // Express's and body-parser's own words name no field and quote library internals (zlib).
    if (statusCode === 400 && /^Failed to decode param/.test(exception.message)) return BAD_PATH;
    const zlibCode = (cause as { code?: unknown } | undefined)?.code;
    if (parserType || isDecompressionFault(zlibCode)) return unreadableBody(statusCode, parserType);
    const payload = exception.getResponse();
    // Terminus answers 503 with each check's state: keep it, it is what an operator needs.
    if (typeof payload === 'object' && payload !== null && 'details' in payload) {
      return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message: 'not ready', details: payload.details };
    }
    const detail = (payload as { message?: unknown }).message;
    const message = typeof payload === 'string' ? payload : Array.isArray(detail) ? detail.join('; ') : typeof detail === 'string' ? detail : exception.message;
    return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message: statusCode === 404 ? unservedRoute(message) : message };
  }
  const parser = exception as { type?: string; status?: number; code?: string; message?: string };
  if (parser?.type === 'entity.parse.failed') return MALFORMED_JSON;
  if (parser?.type === 'entity.too.large') return TOO_LARGE;
  if (parser?.status === 400 && /^Failed to decode param/.test(parser.message ?? '')) return BAD_PATH;
  const clientFault = typeof parser?.status === 'number' && parser.status >= 400 && parser.status < 500;
  if (clientFault && (parser.type || isDecompressionFault(parser.code))) return unreadableBody(parser.status!, parser.type);
  if (isDependencyDown(exception)) {
    return { statusCode: 503, error: 'Service Unavailable', message: 'a dependency (PostgreSQL or Redis) is unavailable; retry later' };
  }
  return { statusCode: 500, error: 'Internal Server Error', message: 'internal error' };
}
