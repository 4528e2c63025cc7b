import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ROLES, type Role } from '../../src/config/config.schema';
import { forgedCursor, hostileJobId, hostilePathSegment, hostileString, malformedJson } from './hostile';
import type { Operation, Parameter } from './openapi-model';
import { mutated, wellShaped } from './schema-arbitrary';
import { Fresh, percentEncode, Pooled, type PoolName, POOLS, type ResolveContext, resolveText, serialize } from './values';

export { ROLES, type Role };

export type Auth = { kind: 'none' } | { kind: 'role'; role: Role } | { kind: 'forged'; header: string };

type Encoding = 'identity' | 'gzip' | 'deflate' | 'br' | 'zstd' | 'corrupt-gzip';
export type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown; contentType: string | null; encoding: Encoding }
  | { kind: 'text'; text: string; contentType: string | null }
  | { kind: 'oversize'; contentType: string };

type PathPart = { literal: string } | { param: string; value: unknown; raw: boolean };
type QueryPart = { key: string; value: unknown; form: 'plain' | 'bare' | 'raw' };

/** One generated request, before its tokens are resolved. */
export interface FuzzRequest {
  op: Operation;
  method: string;
  path: PathPart[];
  query: QueryPart[];
  headers: [string, unknown][];
  auth: Auth;
  body: Body;
}

/** The request as sent: the exact method, path, headers and bytes. */
export interface SentRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
  /** The body as text (its start, for a report). */
  bodyText: string;
  /** The names the request itself used: its top-level body keys, query keys and path parameters. */
  names: Set<string>;
}

const OVERSIZE = 4 * 1024 * 1024 + 1024;

function poolForPathParam(op: Operation, param: string): PoolName | null {
  if (param === 'holdId') return 'holdId';
  if (param === 'token') return 'token';
  if (param !== 'id') return null;
  if (op.path.startsWith('/v1/cases/')) return 'caseId';
  if (op.path.startsWith('/v1/letters/')) return 'letterId';
  if (op.path.startsWith('/v1/batches/')) return 'batchId';
  if (op.path.startsWith('/v1/work-items/')) return 'workItemId';
  if (op.path.startsWith('/v1/jobs/')) return 'jobId';
  return null;
}

function pathParamValue(op: Operation, param: Parameter): fc.Arbitrary<{ value: unknown; raw: boolean }> {
  const pool = poolForPathParam(op, param.name);
  const encoded = (arb: fc.Arbitrary<unknown>) => arb.map((value) => ({ value, raw: false }));
  const options: fc.WeightedArbitrary<{ value: unknown; raw: boolean }>[] = [
    // By its schema alone: a path parameter's name (`id`) says nothing of what it holds.
    { weight: 3, arbitrary: encoded(wellShaped(param.schema)) },
    { weight: 1, arbitrary: hostilePathSegment.map((value) => ({ value, raw: true })) },
    { weight: 1, arbitrary: encoded(hostileString.filter((s) => s.length > 0)) },
  ];
  if (pool) options.push({ weight: 6, arbitrary: encoded(fc.nat().map((i) => new Pooled(pool, i, '00000000-0000-4000-8000-000000000000'))) });
  if (op.path.startsWith('/v1/jobs/') && param.name === 'id') options.push({ weight: 3, arbitrary: encoded(hostileJobId) });
  return fc.oneof(...options);
}

function queryValue(param: Parameter): fc.Arbitrary<unknown> {
  const options: fc.WeightedArbitrary<unknown>[] = [
    { weight: 4, arbitrary: wellShaped(param.schema, param.name, ['query']) },
    { weight: 2, arbitrary: mutated(wellShaped(param.schema, param.name, ['query']), param.name) },
  ];
  if (param.name === 'cursor') {
    options.push({ weight: 3, arbitrary: fc.nat().map((i) => new Pooled('cursor', i, 'WzBd')) }, { weight: 3, arbitrary: forgedCursor });
  }
  if (param.name === 'caseId') options.push({ weight: 3, arbitrary: fc.nat().map((i) => new Pooled('caseId', i, '00000000-0000-4000-8000-000000000000')) });
  if (param.name === 'limit') {
    options.push({
      weight: 2,
      arbitrary: fc.constantFrom('1e3', '0x10', '-1', '0', '1.5', '99999999999999999999', '', ' 5', '5abc', 'Infinity', 'NaN', '٥', '1e-400'),
    });
  }
  return fc.oneof(...options);
}

const queryForm = fc.constantFrom<QueryPart['form']>('plain', 'plain', 'plain', 'plain', 'plain', 'plain', 'bare', 'raw');

/** Keys that turn a value into an array or an object in the query parser, or reach for the prototype. */
const queryKeyShape = fc.constantFrom(
  (k: string) => [k],
  (k: string) => [k],
  (k: string) => [k],
  (k: string) => [k],
  (k: string) => [k, k],
  (k: string) => [`${k}[]`],
  (k: string) => [`${k}[a]`],
  (k: string) => [`${k}[__proto__]`],
  (k: string) => [`${k}[0][1][2][3][4][5][6]`],
);

function queryParts(op: Operation): fc.Arbitrary<QueryPart[]> {
  const perParam = op.queryParams.map((param) =>
    fc.option(
      fc.tuple(queryKeyShape, queryValue(param), queryForm).map(([shape, value, form]) => shape(param.name).map((key): QueryPart => ({ key, value, form }))),
      { freq: param.required ? 10 : 2 },
    ),
  );
  const extras = fc.array(
    fc.oneof(
      fc.constantFrom<QueryPart>(
        { key: 'foo', value: 'bar', form: 'plain' },
        { key: '__proto__[polluted]', value: '1', form: 'plain' },
        { key: 'constructor[prototype][polluted]', value: '1', form: 'plain' },
        { key: 'a[b][c][d][e][f][g][h]', value: '1', form: 'plain' },
        { key: 'x', value: '%ZZ', form: 'raw' },
        { key: 'x', value: '%00', form: 'raw' },
        { key: '', value: 'empty-key', form: 'plain' },
      ),
      fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), hostileString).map(([key, value]): QueryPart => ({ key, value, form: 'plain' })),
    ),
    { maxLength: 2 },
  );
  const many = fc
    .constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1200)
    .map((n) => Array.from({ length: n }, (_, i): QueryPart => ({ key: `p${i}`, value: '1', form: 'plain' })));
  return fc.tuple(fc.tuple(...perParam), extras, many).map(([params, extra, lots]) => [...params.flatMap((p) => p ?? []), ...extra, ...lots]);
}

function headerParts(op: Operation): fc.Arbitrary<[string, unknown][]> {
  const perHeader = op.headerParams.map((param) =>
    fc
      .option(
        fc.oneof(
          { weight: 5, arbitrary: fc.constant<unknown>(new Fresh('idem')) },
          { weight: 2, arbitrary: fc.nat().map((i) => new Pooled('eventId', i, 'idem-none')) },
          { weight: 2, arbitrary: fc.constantFrom('', ' ', 'a'.repeat(201), 'with space', 'caf\u00e9', '\t', 'x'.repeat(6000)) },
        ),
        { freq: 10 },
      )
      .map((value): [string, unknown][] => (value === null ? [] : [[param.name, value]])),
  );
  const accept = fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/csv', '*/*', 'application/xml', 'text/html', 'application/x-ndjson', 'nonsense') },
  );
  return fc
    .tuple(fc.tuple(...perHeader), accept)
    .map(([headers, acceptValue]) => [...headers.flat(), ...(acceptValue ? ([['Accept', acceptValue]] as [string, unknown][]) : [])]);
}

const jsonContentType = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/vnd.api+json',
  'application/merge-patch+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/json; boundary=',
);

function bodyOf(op: Operation): fc.Arbitrary<Body> {
  const none = fc.constant<Body>({ kind: 'none' });
  const junk = fc.oneof(
    malformedJson.map((text): Body => ({ kind: 'text', text, contentType: 'application/json' })),
    fc.constantFrom<Body>(
      { kind: 'text', text: 'kind=letters&asOf=2026-01-01&filter[segment]=x&__proto__[a]=1', contentType: 'application/x-www-form-urlencoded' },
      {
        kind: 'text',
        text: '--xyz\r\nContent-Disposition: form-data; name="kind"\r\n\r\nletters\r\n--xyz--\r\n',
        contentType: 'multipart/form-data; boundary=xyz',
      },
      { kind: 'text', text: '{"kind": "letters"}', contentType: null },
      { kind: 'text', text: '<xml/>', contentType: 'application/xml' },
    ),
  );
  if (!op.body) return fc.oneof({ weight: 12, arbitrary: none }, { weight: 1, arbitrary: junk });
  const schema = op.body.schema;
  const json = (value: fc.Arbitrary<unknown>) =>
    fc
      .tuple(
        value,
        jsonContentType,
        fc.constantFrom<Encoding>(
          'identity',
          'identity',
          'identity',
          'identity',
          'identity',
          'identity',
          'identity',
          'identity',
          'gzip',
          'deflate',
          'br',
          'zstd',
          'corrupt-gzip',
        ),
      )
      .map(([v, contentType, encoding]): Body => ({ kind: 'json', value: v, contentType, encoding }));
  return fc.oneof(
    { weight: 10, arbitrary: json(wellShaped(schema)) },
    { weight: 12, arbitrary: json(mutated(wellShaped(schema))) },
    { weight: 2, arbitrary: junk },
    { weight: op.body.required ? 1 : 3, arbitrary: none },
    { weight: 1, arbitrary: fc.constant<Body>({ kind: 'oversize', contentType: 'application/json' }) },
  );
}

function authFor(op: Operation): fc.Arbitrary<Auth> {
  const allowed = (op.roles ?? []).filter((r): r is Role => (ROLES as readonly string[]).includes(r));
  const forged = fc
    .constantFrom(
      'Bearer',
      'Bearer ',
      'Bearer not-a-key-0000000000000000',
      'bearer x',
      'Basic YWRtaW4ta2V5Ondyb25n',
      'Token abc',
      'Bearer a b',
      'Bearer caf\u00e9',
      'x'.repeat(6000),
    )
    .map((header): Auth => ({ kind: 'forged', header }));
  const options: fc.WeightedArbitrary<Auth>[] = [
    { weight: 3, arbitrary: fc.constantFrom(...ROLES).map((role): Auth => ({ kind: 'role', role })) },
    { weight: 2, arbitrary: fc.constant<Auth>({ kind: 'none' }) },
    { weight: 1, arbitrary: forged },
  ];
  if (allowed.length > 0) options.push({ weight: 14, arbitrary: fc.constantFrom(...allowed).map((role): Auth => ({ kind: 'role', role })) });
  else options.push({ weight: 8, arbitrary: fc.constant<Auth>({ kind: 'none' }) });
  return fc.oneof(...options);
}

function pathOf(op: Operation): fc.Arbitrary<PathPart[]> {
  const pieces = op.path.split(/(\{\w+\})/).filter(Boolean);
  return fc.tuple(
    ...pieces.map((piece): fc.Arbitrary<PathPart> => {
      const name = /^\{(\w+)\}$/.exec(piece)?.[1];
      const param = name ? op.pathParams.find((p) => p.name === name) : undefined;
      if (!param) return fc.constant({ literal: piece });
      return pathParamValue(op, param).map(({ value, raw }) => ({ param: param.name, value, raw }));
    }),
  );
}

const OTHER_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** A request as a careful client sends it: a permitted key, known ids, values the schema accepts, JSON. */
function cleanRequest(op: Operation): fc.Arbitrary<FuzzRequest> {
  const allowed = (op.roles ?? []).filter((r): r is Role => (ROLES as readonly string[]).includes(r));
  const auth: fc.Arbitrary<Auth> =
    allowed.length > 0 ? fc.constantFrom(...allowed).map((role): Auth => ({ kind: 'role', role })) : fc.constant({ kind: 'none' });
  const pieces = op.path.split(/(\{\w+\})/).filter(Boolean);
  const path = fc.tuple(
    ...pieces.map((piece): fc.Arbitrary<PathPart> => {
      const param = op.pathParams.find((p) => `{${p.name}}` === piece);
      if (!param) return fc.constant({ literal: piece });
      const pool = poolForPathParam(op, param.name);
      const value = pool ? fc.nat().map((i) => new Pooled(pool, i, '00000000-0000-4000-8000-000000000000')) : wellShaped(param.schema);
      return value.map((v) => ({ param: param.name, value: v, raw: false }));
    }),
  );
  const query = fc
    .tuple(
      ...op.queryParams.map((param) =>
        fc.option(
          (param.name === 'cursor' ? fc.nat().map((i) => new Pooled('cursor', i, 'WzBd')) : wellShaped(param.schema, param.name, ['query'])).map(
            (value): QueryPart => ({ key: param.name, value, form: 'plain' }),
          ),
          { freq: param.required ? 1_000_000 : 2 },
        ),
      ),
    )
    .map((parts) => parts.filter((p): p is QueryPart => p !== null));
  const headers = fc.constant(op.headerParams.map((param): [string, unknown] => [param.name, new Fresh('idem')]));
  const body: fc.Arbitrary<Body> = op.body
    ? wellShaped(op.body.schema).map((value): Body => ({ kind: 'json', value, contentType: 'application/json', encoding: 'identity' }))
    : fc.constant({ kind: 'none' });
  return fc.record({ method: fc.constant(op.method), path, query, headers, auth, body }).map((parts) => ({ op, ...parts }));
}

/** Requests anything but careful: hostile parts anywhere, any key or none, now and then another method. */
function hostileRequest(op: Operation): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      method: fc.oneof({ weight: 24, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) }),
      path: pathOf(op),
      query: queryParts(op),
      headers: headerParts(op),
      auth: authFor(op),
      body: bodyOf(op),
    })
    .map((parts) => ({ op, ...parts }));
}

/** Requests for one operation: about a third careful, the rest hostile. */
export function requestsFor(op: Operation): fc.Arbitrary<FuzzRequest> {
  return fc.oneof({ weight: 1, arbitrary: cleanRequest(op) }, { weight: 2, arbitrary: hostileRequest(op) });
}

/** How often each operation is picked: writes and events more than reads, health now and then. */
function weightOf(op: Operation): number {
  if (op.key === 'POST /v1/events') return 8;
  if (op.path.startsWith('/health')) return 1;
  return op.method === 'GET' ? 2 : 3;
}

/**
 * Node's HTTP server answers a request head over 16 KB itself, with a bare 431 the app never sees
 * (reported, not fuzzed): requests stay below it, measured with the pools' fallbacks.
 */
const MAX_HEAD = 12 * 1024;
const SIZING: ResolveContext = {
  pools: Object.fromEntries(POOLS.map((pool) => [pool, []])) as unknown as ResolveContext['pools'],
  runTag: 'sizing',
  counter: { next: 0 },
  startedAt: 0,
};
const SIZING_SECRETS = Object.fromEntries(ROLES.map((role) => [role, 'x'.repeat(40)])) as Record<Role, string>;

function headLength(request: FuzzRequest): number {
  const { path, headers } = resolveHead(request, SIZING, SIZING_SECRETS);
  return path.length + Object.entries(headers).reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
}

export function anyRequest(ops: Operation[]): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(...ops.map((op) => ({ weight: weightOf(op), arbitrary: requestsFor(op) }))).filter((request) => headLength(request) <= MAX_HEAD);
}

function encodeQueryKey(key: string): string {
  return /^[\w[\]$.-]*$/.test(key) ? key : percentEncode(key);
}

function encodeBody(text: string, encoding: Encoding): { bytes: Buffer; header: string | null } {
  const bytes = Buffer.from(text, 'utf8');
  switch (encoding) {
    case 'identity':
      return { bytes, header: null };
    case 'gzip':
      return { bytes: gzipSync(bytes), header: 'gzip' };
    case 'deflate':
      return { bytes: deflateSync(bytes), header: 'deflate' };
    case 'br':
      // A low quality: brotli's default (11) takes seconds for a 10 MB body.
      return { bytes: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }), header: 'br' };
    case 'zstd':
      return { bytes, header: 'zstd' };
    case 'corrupt-gzip':
      return { bytes: Buffer.concat([gzipSync(bytes).subarray(0, 12), Buffer.from('not gzip')]), header: 'gzip' };
  }
}

/** The top-level keys a text body carries, read as JSON or else as a form. */
function textBodyKeys(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.keys(parsed) : [];
  } catch {
    return [...new URLSearchParams(text).keys()].map((key) => key.replace(/\[.*$/, ''));
  }
}

/** The request line and headers, tokens resolved. */
function resolveHead(
  request: FuzzRequest,
  ctx: ResolveContext,
  secrets: Record<Role, string>,
): { path: string; headers: Record<string, string>; names: Set<string> } {
  const names = new Set<string>(request.op.pathParams.map((p) => p.name));
  const path = request.path
    .map((part) => {
      if ('literal' in part) return part.literal;
      const text = resolveText(part.value, ctx);
      return part.raw ? text.replace(/[^\x21-\x7e]/gu, (c) => percentEncode(c)) : percentEncode(text);
    })
    .join('');
  const query = request.query
    .map((part) => {
      names.add(part.key.replace(/\[.*$/, ''));
      if (part.form === 'bare') return encodeQueryKey(part.key);
      const text = resolveText(part.value, ctx);
      // Raw: percent signs and all as written, but what the HTTP request line cannot carry is encoded.
      return `${encodeQueryKey(part.key)}=${part.form === 'raw' ? text.replace(/[^\x21-\x7e]/gu, (c) => percentEncode(c)) : percentEncode(text)}`;
    })
    .join('&');
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) headers[name] = resolveText(value, ctx);
  if (request.auth.kind === 'role') headers.Authorization = `Bearer ${secrets[request.auth.role]}`;
  if (request.auth.kind === 'forged') headers.Authorization = request.auth.header;
  return { path: query ? `${path}?${query}` : path, headers, names };
}

/** Resolves a request's tokens into the bytes to send. */
export function resolveRequest(request: FuzzRequest, ctx: ResolveContext, secrets: Record<Role, string>): SentRequest {
  const { path, headers, names } = resolveHead(request, ctx, secrets);
  let body: Buffer | null = null;
  let bodyText = '';
  const bodyKind = request.body;
  if (bodyKind.kind === 'json') {
    bodyText = serialize(bodyKind.value, ctx);
    const parsed = bodyKind.value;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) for (const key of Object.keys(parsed)) names.add(key);
    const encoded = encodeBody(bodyText, bodyKind.encoding);
    body = encoded.bytes;
    if (encoded.header) headers['Content-Encoding'] = encoded.header;
    if (bodyKind.contentType) headers['Content-Type'] = bodyKind.contentType;
  } else if (bodyKind.kind === 'text') {
    bodyText = bodyKind.text;
    for (const key of textBodyKeys(bodyKind.text)) names.add(key);
    body = Buffer.from(bodyKind.text, 'utf8');
    if (bodyKind.contentType) headers['Content-Type'] = bodyKind.contentType;
  } else if (bodyKind.kind === 'oversize') {
    bodyText = `{"pad":"${'x'.repeat(60)}…"} (${OVERSIZE} bytes)`;
    body = Buffer.from(`{"pad":"${'x'.repeat(OVERSIZE)}"}`, 'utf8');
    headers['Content-Type'] = bodyKind.contentType;
  }
  return { method: request.method, path, headers, body, bodyText, names };
}
