import { STATUS_CODES } from 'node:http';
import { isJson, type Received } from './http-client';
import { topLevelProperties } from './openapi-model';
import type { FuzzRequest, SentRequest } from './requests';

/**
 * The properties every answer must have. Each check returns what is wrong, in words, so that a
 * failing run says which rule broke and why.
 */

/** Error bodies stay small whatever was sent: a client's log and a proxy's buffer are not to be filled by echoes. */
export const MAX_ERROR_BYTES = 8 * 1024;

/**
 * Statuses whose body need not name a field: who you are (401, 403), what does not exist (404),
 * how the request was framed (405, 406, 413, 415), that it conflicts with what is stored (409),
 * and how often you ask (429). Any other 4xx (400, 422, …) says which field or parameter is wrong.
 */
export const NEEDS_NO_FIELD = new Set([401, 403, 404, 405, 406, 409, 413, 415, 429]);

const ERROR_KEYS = new Set(['statusCode', 'error', 'message', 'details']);

/** Words that mean the body leaked an internal: a stack frame, a library, a PostgreSQL or Redis message. */
const INTERNALS =
  /\bat \S+ \(|node_modules|\/src\/|\.ts:\d+|QueryFailedError|ZodError|TypeError|RangeError|ReferenceError|SyntaxError|ECONN|ERR_|zlib|Z_DATA_ERROR|duplicate key|violates|relation "|column "|syntax error at|invalid input syntax|out of range for type|ERR wrong|WRONGTYPE|ioredis|typeorm/i;

const LOCATIONS = ['body', 'path', 'query', 'header', 'headers'];

/** Whether `path` is `name` itself or goes on into it (`name.x`, `name[0]`); names may hold dots (a query key `a.b`). */
const startsWithName = (path: string, names: Iterable<string>) =>
  [...names].some((name) => name !== '' && (path === name || path.startsWith(`${name}.`) || path.startsWith(`${name}[`)));

/**
 * Whether `field` names a part of this request in words: a location (`body`, `path`, `query`,
 * `header`), a path parameter, a body property the operation's schema defines, or a name the
 * request itself used (an extra key it sent, a query parameter). After a location, the next part
 * must again be such a name (`query.cursor`, `header.Idempotency-Key`, `body.kind`).
 */
export function namesRequestPart(field: string, request: FuzzRequest, sent: SentRequest): boolean {
  const op = request.op;
  const known = new Set<string>([
    ...op.pathParams.map((p) => p.name),
    ...op.queryParams.map((p) => p.name),
    ...op.headerParams.flatMap((p) => [p.name, p.name.toLowerCase()]),
    ...(op.body ? topLevelProperties(op.body.schema) : []),
    ...sent.names,
  ]);
  const location = LOCATIONS.find((l) => field === l || field.startsWith(`${l}.`) || field.startsWith(`${l}[`));
  if (location) {
    const rest = field.slice(location.length).replace(/^\./, '');
    return rest === '' || rest.startsWith('[') || startsWithName(rest, known) || startsWithName(rest.toLowerCase(), known);
  }
  return startsWithName(field, known);
}

/**
 * Answers that break the field rule for a known reason, while its fix is pending (none today);
 * each is reported with its evidence. They are excused for that rule alone (every other rule still
 * holds for them), counted, and printed at the end of a run; remove an entry once it is fixed.
 */
export const KNOWN_ISSUES: { op: string; statuses: number[]; message: RegExp; why: string }[] = [];

/** How often each known issue excused an answer in this process. */
export const knownIssueHits = new Map<string, number>();

function knownIssue(request: FuzzRequest, res: Received, message: string): boolean {
  const known = KNOWN_ISSUES.find((k) => k.op === request.op.key && k.statuses.includes(res.status) && k.message.test(message));
  if (known) knownIssueHits.set(known.why, (knownIssueHits.get(known.why) ?? 0) + 1);
  return known !== undefined;
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The error-body rules for a 4xx: the one shape, bounded, in the service's words, and naming the field where one is at fault. */
function errorBodyProblems(request: FuzzRequest, sent: SentRequest, res: Received): string[] {
  const problems: string[] = [];
  if (res.bytes >= MAX_ERROR_BYTES) problems.push(`error body is ${res.bytes} bytes (limit ${MAX_ERROR_BYTES})`);
  if (!/^application\/json\b/.test(res.headers['content-type'] ?? ''))
    problems.push(`error body has content type ${res.headers['content-type'] ?? '(none)'}, not JSON`);
  const body = asRecord(res.json);
  if (!body) return [...problems, 'error body is not a JSON object'];
  const unknownKeys = Object.keys(body).filter((key) => !ERROR_KEYS.has(key));
  if (unknownKeys.length > 0) problems.push(`error body has keys outside the ErrorBody shape: ${unknownKeys.join(', ')}`);
  if (body.statusCode !== res.status) problems.push(`statusCode ${String(body.statusCode)} differs from the HTTP status ${res.status}`);
  if (body.error !== STATUS_CODES[res.status]) problems.push(`error "${String(body.error)}" is not the reason phrase "${STATUS_CODES[res.status]}"`);
  const message = body.message;
  if (typeof message !== 'string' || message.trim() === '') problems.push('message is not a non-empty string');
  let fields: string[] = [];
  if (body.details !== undefined) {
    if (!Array.isArray(body.details)) problems.push('details is not an array of {field, reason}');
    else {
      for (const detail of body.details) {
        const d = asRecord(detail);
        const ok = d && typeof d.field === 'string' && d.field !== '' && typeof d.reason === 'string' && d.reason.trim() !== '' && Object.keys(d).length === 2;
        if (!ok) problems.push(`a detail is not {field, reason}: ${JSON.stringify(detail)?.slice(0, 200)}`);
        else fields.push(d.field as string);
      }
    }
  }
  if (typeof message === 'string' && INTERNALS.test(`${message} ${JSON.stringify(body.details ?? '')}`)) {
    problems.push(`the body quotes an internal: ${INTERNALS.exec(`${message} ${JSON.stringify(body.details ?? '')}`)?.[0]}`);
  }
  if (!NEEDS_NO_FIELD.has(res.status) && typeof message === 'string') {
    if (res.status === 400 && fields.length === 0) problems.push('a 400 without details naming the field');
    // A 422 may say it in its message alone: "data.invoiceExternalId: no open case for invoice X".
    if (fields.length === 0) fields = [/^([^\s:]+): /.exec(message)?.[1] ?? ''];
    const unnamed = fields.filter((field) => !namesRequestPart(field, request, sent));
    if (unnamed.length > 0 && knownIssue(request, res, message)) return problems;
    if (unnamed.length > 0) problems.push(`names no field or parameter of the request in words: ${unnamed.map((f) => JSON.stringify(f)).join(', ')}`);
    else if (!fields.some((field) => message.includes(field))) problems.push('the message does not say which field');
  }
  return problems;
}

/**
 * Who may call: with no key or an unknown one a protected route is a 401, with a key of another
 * role a 403, and a permitted key is never refused as such; a route a provider's signature
 * authenticates never acts on the fuzzer's unsigned requests. Express and the body parser act
 * before the guard, so a path it cannot decode, a body it cannot read (400 naming `path` or
 * `body`), an oversized body (413) or one in an unsupported encoding (415) may come first.
 */
function accessProblems(request: FuzzRequest, res: Received): string[] {
  const { op, auth } = request;
  if (request.method !== op.method) return [];
  const body = asRecord(res.json);
  const framing =
    res.status === 413 ||
    res.status === 415 ||
    (res.status === 400 && Array.isArray(body?.details) && body.details.every((d) => ['body', 'path'].includes(String(asRecord(d)?.field))));
  // The fuzzer cannot sign as a provider: its requests are refused (401) or bad input (400), and never act.
  if (op.signedBy) return res.status < 400 ? [`an unsigned request to a route authenticated by ${op.signedBy} answered ${res.status}`] : [];
  const allowed = op.roles === null || (auth.kind === 'role' && op.roles.includes(auth.role));
  if (op.roles !== null && auth.kind !== 'role' && res.status !== 401 && !framing) return [`no valid key on a protected route answered ${res.status}, not 401`];
  if (op.roles !== null && auth.kind === 'role' && !allowed && res.status !== 403 && !framing) {
    return [`a ${auth.role} key on a route for ${op.roles.join(', ')} answered ${res.status}, not 403`];
  }
  if (allowed && (res.status === 401 || res.status === 403)) return [`a permitted caller was refused with ${res.status}`];
  return [];
}

/** The events a POST /v1/events body carried: its `events`, or itself; null when it is not JSON. */
export function eventsSent(sent: SentRequest): unknown[] | null {
  try {
    const body: unknown = JSON.parse(sent.bodyText);
    const events = asRecord(body)?.events;
    return Array.isArray(events) ? events : [body];
  } catch {
    return null;
  }
}

/** Event results: one per event, in order; a rejected one says why in words naming the field, and none is the service's own failure. */
function eventResultProblems(request: FuzzRequest, sent: SentRequest, res: Received): string[] {
  if (request.op.key !== 'POST /v1/events' || request.method !== 'POST' || res.status !== 202) return [];
  const results = asRecord(res.json)?.results;
  if (!Array.isArray(results)) return ['a 202 from /v1/events without results'];
  const events = eventsSent(sent);
  const problems: string[] = [];
  if (events && events.length !== results.length) problems.push(`${events.length} events answered with ${results.length} results`);
  const envelope = request.op.body ? topLevelProperties(request.op.body.schema) : [];
  results.forEach((raw, i) => {
    const result = asRecord(raw);
    if (!result || !['accepted', 'duplicate', 'rejected'].includes(String(result.status))) {
      problems.push(`result ${i} is not {id, status}: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    if (result.status !== 'rejected') return;
    if (result.code === 'internal') problems.push(`event ${i} failed inside the service: ${String(result.error).slice(0, 300)}`);
    const error = typeof result.error === 'string' ? result.error : '';
    if (error.length > 2000) problems.push(`event ${i} was rejected with an error of ${error.length} characters`);
    const field = /^([^\s:]+): /.exec(error)?.[1] ?? '';
    const own = Object.keys(asRecord(events?.[i]) ?? {});
    if (!startsWithName(field, [...envelope, ...own, 'body']))
      problems.push(`event ${i} was rejected naming no field of it: ${JSON.stringify(error.slice(0, 300))}`);
  });
  return problems;
}

/** Every rule for one answer; the row-count rule is the harness's (it needs the database). */
export function responseProblems(request: FuzzRequest, sent: SentRequest, res: Received): string[] {
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`answered ${res.status}`);
  if (res.status < 100 || res.status > 599) problems.push(`answered an impossible status ${res.status}`);
  if (res.status >= 400 && res.status < 500) problems.push(...errorBodyProblems(request, sent, res));
  if (res.status >= 200 && res.status < 300 && isJson(res.headers['content-type']) && res.bytes <= 256 * 1024 && res.json === undefined) {
    problems.push('a 2xx JSON answer does not parse');
  }
  problems.push(...accessProblems(request, res));
  problems.push(...eventResultProblems(request, sent, res));
  return problems;
}
