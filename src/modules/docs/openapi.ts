import parse from 'joi-to-json';
import type Joi from 'joi';
import type { RouteAuth, RouteSpec } from '../../http/api-router';
import { FLOWS, REQUEST_EXAMPLES } from './flows';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: Joi.Schema): JsonSchema =>
  clean(parse(schema, 'open-api-3.1') as JsonSchema);

const BOUNDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'];
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SUBSCHEMAS = ['if', 'then', 'else', 'not', 'items', 'contains'];

/**
 * What joi-to-json emits that JSON Schema readers other than Ajv take otherwise, set right: a
 * nullable `anyOf` (emitted beside `type: null`) becomes one `anyOf` with null;
 * a bound that is a joi reference (`less(Joi.ref('amountApply'))`) is dropped (the API still
 * checks it: the document cannot say it); a JavaScript regex literal's flags after the
 * pattern (`…$/u`) are removed (JSON Schema patterns are Unicode-aware already); boolean
 * subschemas become `{}` / `{ not: {} }`; a branch that requires a property its object
 * declares gets that property's schema (so every required property is defined where required).
 */
export function clean(schema: JsonSchema, parentProps?: Record<string, JsonSchema>): JsonSchema {
  const out: JsonSchema = { ...schema };
  for (const k of BOUNDS) if (k in out && typeof out[k] !== 'number') delete out[k];
  if (typeof out.pattern === 'string') out.pattern = out.pattern.replace(/\/[a-z]+$/, '');
  // `alternatives(...).allow(null)` comes out as `anyOf` beside `type: 'null'` (both must hold).
  if (Array.isArray(out.anyOf) && out.type === 'null') {
    out.anyOf = [...(out.anyOf as unknown[]), { type: 'null' }];
    delete out.type;
  }
  const props = out.properties as Record<string, JsonSchema> | undefined;
  if (props)
    out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, clean(v)]));
  const inherited =
    (props ? (out.properties as Record<string, JsonSchema>) : undefined) ?? parentProps;
  const sub = (v: unknown): unknown =>
    v === true ? {} : v === false ? { not: {} } : clean(v as JsonSchema, inherited);
  for (const k of SUBSCHEMAS) if (k in out) out[k] = sub(out[k]);
  if (out.additionalProperties && typeof out.additionalProperties === 'object')
    out.additionalProperties = clean(out.additionalProperties as JsonSchema);
  for (const k of SUBSCHEMA_LISTS)
    if (Array.isArray(out[k])) out[k] = (out[k] as unknown[]).map(sub);
  if (!props && Array.isArray(out.required) && parentProps) {
    const own = (out.required as string[]).filter((r) => r in parentProps);
    if (own.length) out.properties = Object.fromEntries(own.map((r) => [r, parentProps[r]]));
  }
  return out;
}

const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: {
            type: 'object',
            properties: { path: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
  },
};

const SECURITY: Record<Exclude<RouteAuth, 'none'>, { scheme: JsonSchema }> = {
  investor: {
    scheme: { type: 'http', scheme: 'bearer', description: 'investor session token from login' },
  },
  admin: {
    scheme: {
      type: 'http',
      scheme: 'bearer',
      description: 'admin session token from /admin/v1/auth/login',
    },
  },
  adminBasic: {
    scheme: { type: 'http', scheme: 'basic', description: 'ADMIN_USER / ADMIN_PASSWORD' },
  },
  metrics: {
    scheme: {
      type: 'http',
      scheme: 'bearer',
      description: 'METRICS_TOKEN (asked for only when it is set)',
    },
  },
  partner: {
    scheme: {
      type: 'apiKey',
      in: 'header',
      name: 'X-Signature',
      description: 'hex HMAC-SHA256 of `${X-Timestamp}.${rawBody}` with PARTNER_SECRET',
    },
  },
  gateway: {
    scheme: {
      type: 'apiKey',
      in: 'header',
      name: 'X-Signature',
      description: 'hex HMAC-SHA256 of `${X-Timestamp}.${rawBody}` with GATEWAY_SECRET',
    },
  },
};

/** Koa path (`/loans/:creditorNo`) → OpenAPI path (`/loans/{creditorNo}`). */
export const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parameters(spec: RouteSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const where of ['path', 'query'] as const) {
    const schema = where === 'path' ? spec.request?.params : spec.request?.query;
    if (!schema) continue;
    const json = toSchema(schema) as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, s] of Object.entries(json.properties ?? {})) {
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: s,
      });
    }
  }
  if (spec.auth === 'partner' || spec.auth === 'gateway') {
    out.push({
      name: 'X-Timestamp',
      in: 'header',
      required: true,
      schema: { type: 'string', pattern: '^\\d+$' },
    });
  }
  if (spec.idempotent) {
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      schema: { type: 'string', maxLength: 128 },
    });
  }
  return out;
}

/**
 * A response's properties are all sent (a field without a value is `null`, never left out), so
 * every property of a response object is required: a generated client's types then say so,
 * and the tests' contract check fails on a field the API forgot. A field that only some
 * answers carry belongs to another schema of an `alternatives` (e.g. a note with `isLong`).
 */
export function requireAll(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  const props = out.properties as Record<string, JsonSchema> | undefined;
  if (props) {
    out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, requireAll(v)]));
    out.required = Object.keys(props);
  }
  if (out.items && typeof out.items === 'object') out.items = requireAll(out.items as JsonSchema);
  for (const k of ['anyOf', 'oneOf', 'allOf'])
    if (Array.isArray(out[k])) out[k] = (out[k] as JsonSchema[]).map(requireAll);
  return out;
}

const errorContent = {
  'application/json': { schema: { $ref: '#/components/schemas/Error' } },
};

/**
 * An operation's responses: each declared status with its body's schema (JSON from the joi
 * schema the handler's output follows; another content type as a string), every error status
 * with the error shape, plus the statuses the router's own layers answer: 400 when the route
 * validates input, 404 when its path names a row, 401 when it needs credentials, 403 when
 * another kind of user's token is sent, 413 and 415 when it takes a body, 409 `IDEMPOTENCY_CONFLICT` when it takes an
 * Idempotency-Key; `default` stands for unexpected server errors (5xx).
 */
function responses(spec: RouteSpec): JsonSchema {
  const declared: RouteSpec['responses'] = { ...spec.responses };
  const r = spec.request;
  if ((r?.body || r?.query || r?.params) && !declared[400])
    declared[400] = { description: 'VALIDATION_ERROR: a field is missing, malformed or unknown' };
  if (spec.auth !== 'none' && !declared[401])
    declared[401] = { description: 'UNAUTHORIZED: no or wrong credentials' };
  if (r?.params && !declared[404])
    declared[404] = { description: 'NOT_FOUND: nothing with this id (or not yours)' };
  if ((spec.auth === 'investor' || spec.auth === 'admin') && !declared[403])
    declared[403] = { description: 'FORBIDDEN: a token of another kind of user' };
  if (r?.body) {
    declared[413] ??= { description: 'PAYLOAD_TOO_LARGE: the body is over the limit' };
    declared[415] ??= { description: 'UNSUPPORTED_MEDIA_TYPE: send JSON' };
  }
  if (spec.idempotent && !declared[409])
    declared[409] = { description: 'IDEMPOTENCY_CONFLICT: the key was used with another body' };
  const out: JsonSchema = {};
  for (const [status, d] of Object.entries(declared)) {
    const content =
      Number(status) >= 400
        ? errorContent
        : d.contentType && d.contentType !== 'application/json'
          ? { [d.contentType]: { schema: { type: 'string' } } }
          : d.schema
            ? { 'application/json': { schema: requireAll(toSchema(d.schema)) } }
            : undefined;
    out[status] = { description: d.description, ...(content ? { content } : {}) };
  }
  out.default = { description: 'unexpected server error', content: errorContent };
  return out;
}

/** Builds the OpenAPI 3.1 document from the very RouteSpecs whose joi schemas validate requests. */
export function buildOpenApi(specs: RouteSpec[], info: { version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const usedSchemes = new Set<Exclude<RouteAuth, 'none'>>();
  for (const spec of specs) {
    const op: JsonSchema = {
      operationId: `${spec.method}${spec.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: spec.summary,
      tags: spec.tags,
      parameters: parameters(spec),
      responses: responses(spec),
    };
    if (spec.request?.body) {
      const example = REQUEST_EXAMPLES[`${spec.method.toUpperCase()} ${spec.path}`];
      op.requestBody = {
        required: true,
        content: {
          'application/json': {
            schema: toSchema(spec.request.body),
            ...(example === undefined ? {} : { example }),
          },
        },
      };
    }
    if (spec.auth !== 'none') {
      usedSchemes.add(spec.auth);
      op.security = [{ [spec.auth]: [] }];
    } else op.security = [];
    const path = toOpenApiPath(spec.path);
    paths[path] = { ...(paths[path] ?? {}), [spec.method]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'P2P lending marketplace API',
      version: info.version,
      license: {
        name: 'Proprietary (UNLICENSED): for the platform and its partners',
        identifier: 'LicenseRef-Proprietary',
      },
      description: FLOWS,
    },
    servers: [
      { url: '/', description: 'this deployment (the document is served by the API itself)' },
    ],
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: Object.fromEntries([...usedSchemes].map((s) => [s, SECURITY[s].scheme])),
    },
  };
}
