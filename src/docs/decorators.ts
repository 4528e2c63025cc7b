import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiExtension, ApiHeader, ApiParam, ApiQuery, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type { ApiBodyOptions, ApiParamOptions, ApiQueryOptions, SchemaObject, StandardSchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/**
 * OpenAPI decorators that take the zod schemas the controllers validate with. @nestjs/swagger reads
 * any Standard Schema through `~standard.jsonSchema` (zod 4 implements it with z.toJSONSchema), so
 * the document shows exactly what parseOrThrow accepts. Its typings list `standardSchema` only on
 * responses; the body, query and path decorators honour it too (schema-object-factory), hence the
 * widened option types below.
 */
type WithSchema<T> = T & { standardSchema: StandardSchemaObject };

export const ERROR_BODY = 'ErrorBody';

/** The statuses the error filter answers with (src/common/http-exception.filter.ts). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 503;

export const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'Invalid input: `details` names each field and the reason; nothing was changed',
  401: 'No API key, or an unknown one',
  403: "The key's role may not use this route",
  404: 'Not found',
  409: 'Conflicts with the current state; nothing was changed',
  413: 'Request body too large',
  422: 'Well-formed, but refers to something that cannot be acted on',
  429: 'Rate limit reached for this key (per address without a key); see Retry-After',
  503: 'PostgreSQL or Redis is unavailable; retry after Retry-After seconds',
};

/** A JSON request body described by the zod schema the handler parses it with; `optional` when the handler reads a missing body as `{}`. */
export function ApiZodBody(schema: z.ZodType, { description, optional = false }: { description?: string; optional?: boolean } = {}): MethodDecorator {
  const options: WithSchema<ApiBodyOptions> = { standardSchema: schema, required: !optional, description };
  return ApiBody(options);
}

/** Query parameters: each property of the zod object schema becomes one parameter. */
export function ApiZodQuery(schema: z.ZodType): MethodDecorator {
  const options: WithSchema<ApiQueryOptions> = { standardSchema: schema, required: false };
  return ApiQuery(options);
}

/** A path parameter checked by a zod schema (a UUID, mostly). */
export function ApiZodParam(name: string, schema: z.ZodType, description?: string): MethodDecorator {
  const options: WithSchema<ApiParamOptions> = { name, standardSchema: schema, required: true, description };
  return ApiParam(options);
}

/** A request header checked by a zod schema (ApiHeader takes a plain schema, so it is converted here). */
export function ApiZodHeader(name: string, schema: z.ZodType, description?: string): MethodDecorator {
  return ApiHeader({ name, required: true, description, schema: z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as SchemaObject });
}

/**
 * Error answers, all in the one error body. A bare status uses the usual description; a pair
 * gives the route's own reason. 401, 403 and 429 are added to every route the guards cover when
 * the document is built (src/docs/openapi.ts), so routes list only their own errors.
 */
export function ApiErrors(...errors: (ErrorStatus | [ErrorStatus, string])[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...errors.map((error) => {
      const [status, description] = Array.isArray(error) ? error : [error, ERROR_DESCRIPTIONS[error]];
      return ApiResponse({ status, description, schema: { $ref: getSchemaPath(ERROR_BODY) } });
    }),
  );
}

/**
 * A route a third party calls, authenticated by its signature instead of an API key (marked
 * @Public for the key guard): `x-signed-by` names the scheme for clients and the fuzzer, and the
 * 401 says what a forged or missing signature gets.
 */
export function ApiSignedBy(scheme: string): MethodDecorator {
  return applyDecorators(
    ApiExtension('x-signed-by', scheme),
    ApiResponse({ status: 401, description: `The ${scheme} is missing, forged or not ours: nothing was changed`, schema: { $ref: getSchemaPath(ERROR_BODY) } }),
  );
}
