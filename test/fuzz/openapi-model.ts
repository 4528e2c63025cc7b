/**
 * The part of the served OpenAPI document the fuzzer reads: each operation's path, query and header
 * parameters, its JSON body schema (references resolved) and the roles it names in `x-roles`.
 */

/** The JSON Schema keywords the document uses (zod's `toJSONSchema`, OpenAPI 3.0 target). */
export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  default?: unknown;
  description?: string;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  /** `POST /v1/cases/{id}/holds` */
  key: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The templated path, `/v1/cases/{id}/holds`. */
  path: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  headerParams: Parameter[];
  body: { required: boolean; schema: JsonSchema } | null;
  /** The roles that may call it (admin included), or null for a public route. */
  roles: string[] | null;
  /** For a public route a third party calls: the signature that authenticates it instead of a key (`x-signed-by`). */
  signedBy: string | null;
}

interface RawParameter {
  name: string;
  in: Parameter['in'];
  required?: boolean;
  schema?: JsonSchema;
}

interface RawOperation {
  parameters?: (RawParameter | { $ref: string })[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  'x-roles'?: string[];
  'x-signed-by'?: string;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, RawOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** A copy of `schema` with every `$ref` replaced by the schema it names (the document has no cycles; a cycle is an error). */
export function resolveRefs(doc: OpenApiDocument, schema: JsonSchema, seen: string[] = []): JsonSchema {
  if (schema.$ref) {
    const name = schema.$ref.replace(/^#\/components\/schemas\//, '');
    if (seen.includes(name)) throw new Error(`OpenAPI: a reference cycle through ${name}`);
    const target = doc.components?.schemas?.[name];
    if (!target) throw new Error(`OpenAPI: unresolved reference ${schema.$ref}`);
    return resolveRefs(doc, target, [...seen, name]);
  }
  const out: JsonSchema = { ...schema };
  if (schema.items) out.items = resolveRefs(doc, schema.items, seen);
  if (schema.properties) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([key, value]) => [key, resolveRefs(doc, value, seen)]));
  }
  if (typeof schema.additionalProperties === 'object') out.additionalProperties = resolveRefs(doc, schema.additionalProperties, seen);
  for (const combinator of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[combinator];
    if (branches) out[combinator] = branches.map((branch) => resolveRefs(doc, branch, seen));
  }
  return out;
}

/** Every operation of the document, in document order. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method): Operation => {
      const raw = item[method]!;
      const params = (raw.parameters ?? []).map((p): Parameter => {
        if ('$ref' in p) throw new Error(`OpenAPI: ${method.toUpperCase()} ${path} has a parameter by reference, which the fuzzer does not read`);
        return { name: p.name, in: p.in, required: p.required ?? false, schema: resolveRefs(doc, p.schema ?? {}) };
      });
      const json = raw.requestBody?.content?.['application/json']?.schema;
      return {
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase() as Operation['method'],
        path,
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params.filter((p) => p.in === 'query'),
        headerParams: params.filter((p) => p.in === 'header'),
        body: json ? { required: raw.requestBody?.required ?? false, schema: resolveRefs(doc, json) } : null,
        roles: raw['x-roles'] ?? null,
        signedBy: raw['x-signed-by'] ?? null,
      };
    }),
  );
}

/** The top-level property names a body of this schema may have, over every `anyOf`/`oneOf`/`allOf` branch, however nested. */
export function topLevelProperties(schema: JsonSchema): string[] {
  const branches = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  return [...new Set([...Object.keys(schema.properties ?? {}), ...branches.flatMap(topLevelProperties)])];
}
