import { MAX_ERROR_BYTES, namesRequestPart, responseProblems } from './checks';
import type { Received } from './http-client';
import type { Operation } from './openapi-model';
import type { Auth, FuzzRequest, SentRequest } from './requests';

/** The rules themselves, on answers made up to break each one: the suite must be able to fail. */

const op: Operation = {
  key: 'POST /v1/cases/{id}/holds',
  method: 'POST',
  path: '/v1/cases/{id}/holds',
  pathParams: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
  queryParams: [],
  headerParams: [],
  body: { required: true, schema: { type: 'object', properties: { kind: { type: 'string' }, reason: { type: 'string' } }, required: ['kind', 'reason'] } },
  roles: ['admin', 'operator'],
  signedBy: null,
};

const request = (auth: Auth = { kind: 'role', role: 'operator' }): FuzzRequest => ({
  op,
  method: 'POST',
  path: [],
  query: [],
  headers: [],
  auth,
  body: { kind: 'none' },
});
const sent = (names: string[] = []): SentRequest => ({
  method: 'POST',
  path: '/v1/cases/x/holds',
  headers: {},
  body: null,
  bodyText: '',
  names: new Set(['id', ...names]),
});

function answer(status: number, body: unknown, contentType = 'application/json; charset=utf-8'): Received {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { status, headers: { 'content-type': contentType }, bytes: Buffer.byteLength(text), text, json: typeof body === 'string' ? undefined : body };
}

const good400 = {
  statusCode: 400,
  error: 'Bad Request',
  message: 'body.kind: must be one of manual',
  details: [{ field: 'body.kind', reason: 'must be one of manual' }],
};

describe('the fuzz suite’s rules', () => {
  it('pass a well-formed 400 that names the field, and a 404 that names none', () => {
    expect(responseProblems(request(), sent(), answer(400, good400))).toEqual([]);
    expect(responseProblems(request(), sent(), answer(404, { statusCode: 404, error: 'Not Found', message: 'case x not found' }))).toEqual([]);
  });

  it.each<[string, Received, RegExp]>([
    ['a 500', answer(500, { statusCode: 500, error: 'Internal Server Error', message: 'internal error' }), /answered 500/],
    ['a 400 without details', answer(400, { statusCode: 400, error: 'Bad Request', message: 'bad' }), /without details/],
    [
      'a 400 naming something the request does not have',
      answer(400, { ...good400, message: 'tx.lock: x', details: [{ field: 'tx.lock', reason: 'x' }] }),
      /names no field/,
    ],
    ['a 422 naming no field', answer(422, { statusCode: 422, error: 'Unprocessable Entity', message: 'cannot do it' }), /names no field/],
    ['an error body over the limit', answer(400, { ...good400, message: `body.kind: ${'x'.repeat(MAX_ERROR_BYTES)}` }), /bytes \(limit/],
    ['an error body as HTML', answer(404, '{"statusCode":404}', 'text/html; charset=utf-8'), /not JSON/],
    ['a statusCode that is not the status', answer(404, { statusCode: 400, error: 'Not Found', message: 'x' }), /differs from the HTTP status/],
    ['a key outside the shape', answer(404, { statusCode: 404, error: 'Not Found', message: 'x', stack: 'at x' }), /outside the ErrorBody shape/],
    [
      'a stack trace or a SQL message',
      answer(409, { statusCode: 409, error: 'Conflict', message: 'duplicate key value violates unique constraint' }),
      /internal/,
    ],
  ])('catch %s', (_what, res, problem) => {
    expect(responseProblems(request(), sent(), res).join('\n')).toMatch(problem);
  });

  it('catch a protected route that lets a caller without a key or with the wrong role through, or refuses a permitted one', () => {
    const ok = answer(201, { id: 'h' });
    expect(responseProblems(request({ kind: 'none' }), sent(), ok).join('\n')).toMatch(/not 401/);
    expect(responseProblems(request({ kind: 'role', role: 'finance' }), sent(), ok).join('\n')).toMatch(/not 403/);
    expect(responseProblems(request(), sent(), answer(403, { statusCode: 403, error: 'Forbidden', message: 'no' })).join('\n')).toMatch(
      /permitted caller was refused/,
    );
  });

  it("catch a route a provider's signature authenticates acting on an unsigned request, and take its 401 as the rule", () => {
    const signed = { ...request({ kind: 'none' }), op: { ...op, roles: null, signedBy: 'SNS message signature' } };
    expect(responseProblems(signed, sent(), answer(200, { results: [] })).join('\n')).toMatch(/unsigned request .* answered 200/);
    expect(responseProblems(signed, sent(), answer(401, { statusCode: 401, error: 'Unauthorized', message: 'the signature does not match' }))).toEqual([]);
  });

  it('take a field as named when it is a location, a path parameter, a schema property or a name the request sent', () => {
    const req = request();
    expect(
      ['body', 'path', 'id', 'kind', 'body.reason', 'header', 'extra.deep[0]', 'query.extra'].filter((f) => !namesRequestPart(f, req, sent(['extra']))),
    ).toEqual([]);
    expect(['amount', 'tx.lock', '', 'bodyx', 'query.amount'].filter((f) => namesRequestPart(f, req, sent(['extra'])))).toEqual([]);
  });
});
