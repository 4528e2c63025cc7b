import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import type { OpenAPIObject, OperationObject, ReferenceObject, SchemaObject } from '@nestjs/swagger';
import { ROLES } from '../../src/config/config.schema';
import { bearer, KEYS, startTestApp, type TestApp } from '../support/test-app';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
const METHODS: Method[] = ['get', 'post', 'put', 'patch', 'delete'];
type Operation = OperationObject & { 'x-roles'?: string[]; 'x-signed-by'?: string };

/**
 * The routes Express serves: Nest registers each controller route on the app's router. Left out:
 * the docs' own routes, and Nest middleware (logger, dashboard), which it mounts as wildcard
 * routes for every method; no controller route has a wildcard.
 */
function servedRoutes(app: Express): string[] {
  const stack = (app as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router.stack;
  return stack
    .flatMap((layer) =>
      layer.route
        ? Object.keys(layer.route.methods)
            .filter((m) => m !== '_all')
            .map((m) => `${m.toUpperCase()} ${layer.route!.path}`)
        : [],
    )
    .filter((route) => !/^\w+ \/docs/.test(route) && !route.includes('*'))
    .map((route) => route.replace(/:(\w+)/g, '{$1}'));
}

const basic = (name: string, secret: string) => `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;

describe('OpenAPI at /docs', () => {
  let sut: TestApp;
  let doc: OpenAPIObject;
  let operations: { route: string; path: string; method: Method; op: Operation }[];

  beforeAll(async () => {
    sut = await startTestApp('openapi', 12);
    doc = (await sut.http.get('/docs-json').set(bearer('ingest')).expect(200).expect('Content-Type', /json/)).body;
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({ route: `${method.toUpperCase()} ${path}`, path, method, op: item[method] as Operation })),
    );
  });

  afterAll(async () => {
    await sut?.close();
  });

  it('documents every route the app serves, and only those', () => {
    const served = servedRoutes(sut.app.getHttpAdapter().getInstance() as Express);
    expect(served.length).toBeGreaterThan(20);
    expect(operations.map((o) => o.route).sort()).toEqual([...new Set(served)].sort());
  });

  it('gives every operation a summary, a tag, a success answer and the error body for its errors', () => {
    // All offenders at once, so that one run names every route still to document.
    const undocumented = operations.filter(({ op }) => !op.summary || !op.tags?.length || !Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)));
    expect(undocumented.map((o) => o.route)).toEqual([]);
    const errors = operations.flatMap(({ route, op }) =>
      Object.entries(op.responses)
        .filter(([status]) => Number(status) >= 400)
        .map(([status, response]) => ({
          route,
          status,
          schema: (response as { content?: Record<string, { schema?: ReferenceObject }> }).content?.['application/json']?.schema?.$ref,
        })),
    );
    expect(errors.filter((e) => e.schema !== '#/components/schemas/ErrorBody')).toEqual([]);
    const errorBody = doc.components?.schemas?.ErrorBody as SchemaObject;
    expect(Object.keys(errorBody.properties ?? {})).toEqual(['statusCode', 'error', 'message', 'details']);
    expect(errorBody.required).toEqual(['statusCode', 'error', 'message']);
  });

  it('marks every route but health, the unsubscribe link and the self-service page with the api-key scheme and names its roles', () => {
    expect(doc.components?.securitySchemes?.['api-key']).toMatchObject({ type: 'http', scheme: 'bearer' });
    const open = operations.filter(({ op }) => !op['x-roles']).map((o) => o.route);
    expect(open.sort()).toEqual([
      'GET /health/live',
      'GET /health/ready',
      'GET /v1/self-service/{token}',
      'GET /v1/self-service/{token}/letters/{letterId}',
      'GET /v1/unsubscribe/{token}',
      'POST /v1/delivery/sendgrid',
      'POST /v1/delivery/ses',
      'POST /v1/self-service/{token}/dispute',
      'POST /v1/self-service/{token}/plan',
      'POST /v1/self-service/{token}/preferences',
      'POST /v1/self-service/{token}/promise',
      'POST /v1/unsubscribe/{token}',
    ]);
    // The email providers' webhooks say which signature stands in for the key, and what a forged one gets.
    for (const { route, op } of operations.filter(({ op }) => op['x-signed-by'])) {
      expect({ route, description: op.description?.split('\n')[0], has401: '401' in op.responses }).toEqual({
        route,
        description: `Public: no API key; the ${op['x-signed-by']} authenticates it.`,
        has401: true,
      });
    }
    expect(operations.filter(({ op }) => op['x-signed-by']).map((o) => o.route)).toEqual(['POST /v1/delivery/ses', 'POST /v1/delivery/sendgrid']);
    for (const { route, op } of operations) {
      if (!op['x-roles']) {
        expect({ route, security: op.security, description: op.description }).toEqual({
          route,
          security: [],
          description: expect.stringMatching(/^Public: no API key/),
        });
        continue;
      }
      expect({ route, security: op.security }).toEqual({ route, security: [{ 'api-key': [] }] });
      const named = op['x-roles'].filter((role) => role !== 'admin');
      const text = named.length ? `Roles: ${named.join(', ')} (admin always).` : 'Roles: admin only.';
      expect({ route, description: op.description?.split('\n')[0] }).toEqual({ route, description: text });
      expect({ route, errors: ['401', '403', '429'].every((s) => s in op.responses) }).toEqual({ route, errors: true });
    }
  });

  it('names the roles the guard really enforces: any other role gets 403', async () => {
    for (const { route, path, method, op } of operations) {
      const allowed = op['x-roles'];
      if (!allowed) continue;
      const outsider = ROLES.find((role) => !allowed.includes(role));
      if (!outsider) continue;
      const url = path.replace(/\{\w+\}/g, randomUUID());
      const res = await sut.http[method](url).set(bearer(outsider)).send({});
      expect({ route, outsider, status: res.status }).toEqual({ route, outsider, status: 403 });
    }
  });

  it('describes POST /v1/events: one event or {events: [...]}, with the envelope fields and a 202 with results', () => {
    const op = doc.paths['/v1/events']!.post as Operation;
    const body = (op.requestBody as { content: Record<string, { schema: SchemaObject }> }).content['application/json']!.schema;
    const variants = (body.anyOf ?? body.oneOf ?? []) as (SchemaObject & Partial<ReferenceObject>)[];
    const batch = variants.find((v) => v.properties?.events);
    expect(batch?.required).toEqual(['events']);
    const events = batch?.properties?.events as SchemaObject;
    expect(events.maxItems).toBe(1000);
    // One event, alone or in the batch: the shared Event component, one variant per type.
    const single = variants.find((v) => v.$ref);
    expect(single?.$ref).toBe('#/components/schemas/Event');
    expect(events.items).toEqual({ $ref: '#/components/schemas/Event' });
    const event = doc.components?.schemas?.Event as SchemaObject;
    const byType = new Map(((event.anyOf ?? event.oneOf ?? []) as SchemaObject[]).map((v) => [(v.properties?.type as SchemaObject).enum?.[0], v]));
    expect([...byType.keys()].sort()).toEqual([
      'acknowledgment.signed',
      'debtor.updated',
      'dispute.opened',
      'dispute.resolved',
      'invoice.cancelled',
      'invoice.overdue',
      'payment.received',
      'promise.made',
    ]);
    for (const variant of byType.values()) {
      expect(variant.required).toEqual(['id', 'type', 'occurredAt', 'data']);
      expect(Object.keys(variant.properties ?? {})).toEqual(['id', 'type', 'occurredAt', 'data']);
    }
    const overdue = byType.get('invoice.overdue')?.properties?.data as SchemaObject;
    expect(overdue.required).toEqual(['invoice', 'debtor']);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '403', '413', '422', '429']));
    expect(JSON.stringify(op.responses['202'])).toContain('results');
  });

  it('takes query and path parameters from the zod schemas', () => {
    const list = doc.paths['/v1/cases']!.get as Operation;
    const status = list.parameters?.find((p) => 'name' in p && p.name === 'status') as { in: string; schema: SchemaObject } | undefined;
    expect(status).toMatchObject({ in: 'query', schema: { enum: ['active', 'on_hold', 'resolved', 'cancelled', 'written_off', 'closed'] } });
    const detail = doc.paths['/v1/cases/{id}']!.get as Operation;
    expect(detail.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path', schema: expect.objectContaining({ format: 'uuid' }) })]),
    );
  });

  it('answers 401 with a Basic challenge without credentials or with wrong ones, on the page and the JSON', async () => {
    for (const url of ['/docs', '/docs/', '/docs-json', '/docs/swagger-ui-init.js', '/docs/swagger-ui.css']) {
      const res = await sut.http.get(url).expect(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="dunning"');
      expect(res.body).toMatchObject({ statusCode: 401 });
    }
    await sut.http.get('/docs-json').set('Authorization', 'Bearer not-a-key-0000000000000000').expect(401);
    await sut.http.get('/docs').set('Authorization', basic('auditor-key', KEYS.ingest)).expect(401);
    await sut.http.get('/docs').set('Authorization', basic('auditor-key', 'wrong')).expect(401);
  });

  it('serves Swagger UI to a browser with HTTP Basic (key name and secret), any role', async () => {
    const page = await sut.http.get('/docs').set('Authorization', basic('auditor-key', KEYS.auditor)).expect(200).expect('Content-Type', /html/);
    expect(page.text).toContain('swagger-ui');
    const init = await sut.http.get('/docs/swagger-ui-init.js').set('Authorization', basic('ingest-key', KEYS.ingest)).expect(200);
    expect(init.text).toContain('/v1/events');
    await sut.http.get('/docs-json').set('Authorization', basic('finance-key', KEYS.finance)).expect(200);
  });
});
