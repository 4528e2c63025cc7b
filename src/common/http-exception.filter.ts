import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Response } from 'express';
import { DomainError, DomainErrorCode } from './errors';

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
  details?: { field: string; reason: string }[];
}

/** One error shape for every route: {statusCode, error, message, details?}. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof DomainError) {
      const statusCode = statusByCode[exception.code];
      return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message: exception.message, details: exception.details.length ? exception.details : undefined };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const cause = exception.cause ?? (exception as { originalError?: unknown }).originalError;
      // body-parser failures arrive as HttpExceptions wrapping the parser's error type.
      const parserType = (exception as unknown as { type?: string }).type ?? (cause as { type?: string } | undefined)?.type;
      if (statusCode === 400 && (parserType === 'entity.parse.failed' || /JSON/.test(exception.message))) {
        return { statusCode, error: 'Bad Request', message: 'body: malformed JSON', details: [{ field: 'body', reason: 'malformed JSON' }] };
      }
      if (statusCode === 413) {
        return { statusCode, error: 'Payload Too Large', message: 'body: request body too large' };
      }
      const payload = exception.getResponse();
      const message = typeof payload === 'string' ? payload : String((payload as { message?: unknown }).message ?? exception.message);
      return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
    }
    const parser = exception as { type?: string; status?: number };
    if (parser?.type === 'entity.parse.failed') {
      return { statusCode: 400, error: 'Bad Request', message: 'body: malformed JSON', details: [{ field: 'body', reason: 'malformed JSON' }] };
    }
    if (parser?.type === 'entity.too.large') {
      return { statusCode: 413, error: 'Payload Too Large', message: 'body: request body too large' };
    }
    return { statusCode: 500, error: 'Internal Server Error', message: 'internal error' };
  }
}
