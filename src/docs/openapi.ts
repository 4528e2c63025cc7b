import type { INestApplication, Type } from '@nestjs/common';
import { ModulesContainer, Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, getSchemaPath, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject, OperationObject, ResponsesObject, SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { routeAccess, type RouteAccess } from '../common/auth/roles.decorator';
import { ApiKeyRing } from '../common/auth/api-keys';
import { limitRequests, RequestLimiter, UNLIMITED } from '../rate-limit/rate-limit.guard';
import { docsAuth } from './docs-auth';
import { ERROR_BODY, ERROR_DESCRIPTIONS } from './decorators';

export const API_KEY_SCHEME = 'api-key';
export const DOCS_PATH = 'docs';
export const DOCS_JSON_PATH = 'docs-json';

/** The body of every error answer, as toErrorBody (src/common/http-exception.filter.ts) builds it. */
export const errorBodySchema = z
  // Loose: clients must not break if a field is added.
  .looseObject({
    statusCode: z.number().meta({ description: 'The HTTP status, repeated' }),
    error: z.string().meta({ description: 'Its reason phrase, e.g. "Bad Request"' }),
    message: z.string().meta({ description: 'What went wrong, for people' }),
    details: z
      .union([
        z.array(z.object({ field: z.string().meta({ description: 'Dotted path, e.g. data.invoice.currency or query.limit' }), reason: z.string() })),
        z.record(z.string(), z.unknown()),
      ])
      .optional()
      .meta({ description: 'Validation and conflict errors: one {field, reason} per problem. GET /health/ready: the state of each check.' }),
  })
  .meta({ description: 'The one error shape of every route' });

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

interface RouteTarget {
  controller: Type<unknown>;
  handler: (...args: unknown[]) => unknown;
}

/** Controller methods by the operation id the document gives them (`<Controller>_<method>`). */
function routeTargets(app: INestApplication): Map<string, RouteTarget> {
  const targets = new Map<string, RouteTarget>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type<unknown> | null;
      if (!controller) continue;
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler: unknown = (controller.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const id = `${controller.name}_${name}`;
        const known = targets.get(id);
        // Operation ids are keyed by class name: two controllers with one name would be ambiguous.
        if (known && known.controller !== controller) throw new Error(`OpenAPI: two controllers are named ${controller.name}`);
        targets.set(id, { controller, handler: handler as RouteTarget['handler'] });
      }
    }
  }
  return targets;
}

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: getSchemaPath(ERROR_BODY) } } } });

function rolesText(access: RouteAccess, signedBy: string | undefined): string {
  if (access.public) return signedBy ? `Public: no API key; the ${signedBy} authenticates it.` : 'Public: no API key.';
  return access.roles.length === 0 ? 'Roles: admin only.' : `Roles: ${access.roles.join(', ')} (admin always).`;
}

/**
 * Adds what the guards decide to each operation, read from the same metadata they read: the
 * roles (in the description and as `x-roles`), the api-key security, and the 401, 403 and 429
 * answers. A route the guards cover is thus never documented differently from how it behaves.
 */
function applyAccess(document: OpenAPIObject, app: INestApplication): void {
  const reflector = app.get(Reflector);
  const targets = routeTargets(app);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation: OperationObject | undefined = item[method];
      if (!operation) continue;
      const target = targets.get(operation.operationId?.replace(/\[\d+\]$/, '') ?? '');
      if (!target) throw new Error(`OpenAPI: no controller method for ${method.toUpperCase()} ${path} (${operation.operationId})`);
      const on = [target.handler, target.controller];
      const access = routeAccess(reflector, on);
      const responses: ResponsesObject = operation.responses ?? {};
      const signedBy = (operation as { 'x-signed-by'?: string })['x-signed-by'];
      operation.description = [rolesText(access, signedBy), operation.description].filter(Boolean).join('\n\n');
      if (access.public) {
        // An empty requirement list overrides any document-wide security: no key needed.
        operation.security = [];
      } else {
        // Machine-readable too, for clients and the docs test.
        Object.assign(operation, { 'x-roles': ['admin', ...access.roles] });
        operation.security = [{ [API_KEY_SCHEME]: [] }];
        responses[401] ??= errorResponse(ERROR_DESCRIPTIONS[401]);
        responses[403] ??= errorResponse(`${ERROR_DESCRIPTIONS[403]} (allowed: ${['admin', ...access.roles].join(', ')})`);
      }
      if (!reflector.getAllAndOverride<boolean>(UNLIMITED, on)) responses[429] ??= errorResponse(ERROR_DESCRIPTIONS[429]);
      if (operation.requestBody) responses[413] ??= errorResponse(ERROR_DESCRIPTIONS[413]);
      operation.responses = sortResponses(responses);
    }
  }
}

/** Swagger UI lists responses in key order: successes first, then errors by code. */
function sortResponses(responses: ResponsesObject): ResponsesObject {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

/** The OpenAPI 3 document of every route the app serves, from its controllers' decorators and guards. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Dunning service')
    .setDescription(
      'Overdue events start cases that follow timed policy ladders; every touch is audited. ' +
        'Every route but health and the unsubscribe link needs `Authorization: Bearer <key>`; a key carries one role ' +
        '(ingest, finance, operator, auditor, admin) and admin may use every route. Errors share one body (ErrorBody).',
    )
    .setVersion('v1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key secret from API_KEYS' }, API_KEY_SCHEME)
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    // The default ids, spelled out because applyAccess finds each operation's handler by them.
    operationIdFactory: (controllerKey, methodKey) => `${controllerKey}_${methodKey}`,
  });
  document.components ??= {};
  document.components.schemas ??= {};
  document.components.schemas[ERROR_BODY] = z.toJSONSchema(errorBodySchema, { target: 'openapi-3.0' }) as SchemaObject;
  applyAccess(document, app);
  return document;
}

/**
 * Serves Swagger UI at /docs and the JSON at /docs-json, both behind an API key (Bearer, or HTTP
 * Basic with the key's name and secret so that a browser can open the page). The document is
 * built now, so that a route the document cannot place fails the boot, not the first reader.
 */
export function mountDocs(app: NestExpressApplication): void {
  const document = buildOpenApiDocument(app);
  // Registered before SwaggerModule's own routes and static files, so it runs first for all of them.
  app.use([`/${DOCS_PATH}`, `/${DOCS_JSON_PATH}`], limitRequests(app.get(RequestLimiter)), docsAuth(app.get(ApiKeyRing)));
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: DOCS_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'Dunning service API',
    swaggerOptions: { persistAuthorization: false, displayOperationId: false },
  });
}
