import type { FuzzApp } from './fuzz-app';
import type { Received } from './http-client';
import type { FuzzRequest, SentRequest } from './requests';
import type { PoolName } from './values';

/** Where the ids of an operation's answer go: its top-level `id` and its `items[].id`. */
const ID_POOLS: Record<string, PoolName> = {
  'GET /v1/cases': 'caseId',
  'GET /v1/cases/{id}': 'caseId',
  'POST /v1/cases/{id}/holds': 'holdId',
  'GET /v1/letters': 'letterId',
  'GET /v1/letters/{id}': 'letterId',
  'GET /v1/work-items': 'workItemId',
  'GET /v1/work-items/{id}': 'workItemId',
  'POST /v1/batches': 'batchId',
  'GET /v1/batches/{id}': 'batchId',
  'GET /v1/jobs': 'jobId',
};

/** Ids nested anywhere in an answer, by the key that holds them. */
const NESTED_POOLS: Record<string, PoolName> = { caseId: 'caseId', letterId: 'letterId', holdId: 'holdId', workItemId: 'workItemId', batchId: 'batchId' };
const LIST_POOLS: Record<string, PoolName> = { holds: 'holdId', letters: 'letterId' };

function walk(app: FuzzApp, value: unknown, depth = 0): void {
  if (depth > 6 || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    value.slice(0, 50).forEach((item) => walk(app, item, depth + 1));
    return;
  }
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'nextCursor') app.remember('cursor', inner);
    const nested = NESTED_POOLS[key];
    if (nested) app.remember(nested, inner);
    const listed = LIST_POOLS[key];
    if (listed && Array.isArray(inner)) for (const item of inner.slice(0, 50)) app.remember(listed, (item as { id?: unknown })?.id);
    walk(app, inner, depth + 1);
  }
}

/** The invoices, debtors, payments and event ids of events the service took. */
function harvestEvents(app: FuzzApp, sent: SentRequest, res: Received): void {
  let body: unknown;
  try {
    body = JSON.parse(sent.bodyText);
  } catch {
    return;
  }
  const events = (Array.isArray((body as { events?: unknown })?.events) ? (body as { events: unknown[] }).events : [body]) as Record<string, unknown>[];
  const results = ((res.json as { results?: unknown[] })?.results ?? []) as { id?: unknown; status?: unknown }[];
  results.forEach((result, i) => {
    const event = events[i];
    if (!event || (result.status !== 'accepted' && result.status !== 'duplicate')) return;
    app.remember('eventId', result.id);
    const data = (event.data ?? {}) as Record<string, unknown>;
    if (event.type === 'invoice.overdue') {
      app.remember('invoice', (data.invoice as Record<string, unknown> | undefined)?.externalId);
      app.remember('debtor', (data.debtor as Record<string, unknown> | undefined)?.externalId);
    }
    if (event.type === 'payment.received') app.remember('paymentId', data.paymentId);
  });
}

/** Feeds the pools from a successful answer, so that later requests name things that exist. */
export function harvest(app: FuzzApp, request: FuzzRequest, sent: SentRequest, res: Received): void {
  if (res.status < 200 || res.status >= 300 || res.json === undefined) return;
  const pool = ID_POOLS[request.op.key];
  const json = res.json as { id?: unknown; items?: { id?: unknown }[] };
  if (pool && request.method === request.op.method) {
    app.remember(pool, json.id);
    if (Array.isArray(json.items)) for (const item of json.items.slice(0, 50)) app.remember(pool, item?.id);
  }
  if (request.op.key === 'POST /v1/events' && request.method === 'POST') harvestEvents(app, sent, res);
  walk(app, res.json);
}
