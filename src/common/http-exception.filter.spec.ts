import { NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { NotFound, ValidationFailed } from './errors';
import { toErrorBody } from './http-exception.filter';

describe('toErrorBody', () => {
  it('names the field of a validation failure in a 400', () => {
    const sut = toErrorBody(new ValidationFailed([{ field: 'data.invoice.currency', reason: 'must be an ISO 4217 currency code' }]));
    expect(sut).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'data.invoice.currency: must be an ISO 4217 currency code',
      details: [{ field: 'data.invoice.currency', reason: 'must be an ISO 4217 currency code' }],
    });
  });

  it('answers 404 for an unknown reference', () => {
    expect(toErrorBody(new NotFound('case', 'x'))).toMatchObject({ statusCode: 404, error: 'Not Found', message: 'case x not found' });
  });

  it('names the method and the path of a route not served, without the query and cut short', () => {
    const url = `/v1/cases/${'a'.repeat(5000)}?${'p=1&'.repeat(2000)}`;
    const sut = toErrorBody(new NotFoundException(`Cannot PATCH ${url}`));
    expect(sut).toEqual({ statusCode: 404, error: 'Not Found', message: `Cannot PATCH /v1/cases/${'a'.repeat(190)}…` });
    expect(toErrorBody(new NotFoundException('Cannot GET /v1/nothing?x=1')).message).toBe('Cannot GET /v1/nothing');
    expect(toErrorBody(new NotFoundException('unknown unsubscribe link')).message).toBe('unknown unsubscribe link');
  });

  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['PostgreSQL shutting down', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['a connection exception', Object.assign(new Error('connection failure'), { code: '08006' })],
    ['an exhausted pool', new Error('timeout exceeded when trying to connect')],
  ])('answers 503 (retry later) for %s', (_name, error) => {
    expect(toErrorBody(error)).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
  });

  it('hides the details of an unexpected error behind a 500', () => {
    expect(toErrorBody(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }))).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'internal error',
    });
  });

  it('keeps the state of each health check in a 503 from the readiness probe', () => {
    const details = { postgres: { status: 'down', message: 'connect ECONNREFUSED' }, redis: { status: 'up' } };
    expect(toErrorBody(new ServiceUnavailableException({ status: 'error', details }))).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'not ready',
      details,
    });
  });

  it('reports a body parser failure as malformed JSON', () => {
    expect(toErrorBody(Object.assign(new SyntaxError('Unexpected end of JSON input'), { type: 'entity.parse.failed', status: 400 }))).toMatchObject({
      statusCode: 400,
      message: 'body: malformed JSON',
    });
  });
});
