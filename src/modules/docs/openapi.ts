import parse from 'joi-to-json';
import type Joi from 'joi';
import type { RouteAuth, RouteSpec } from '../../http/api-router';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: Joi.Schema): JsonSchema => parse(schema, 'open-api-3.1') as JsonSchema;

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
      responses: Object.fromEntries([
        ...Object.entries(spec.responses).map(([status, r]) => [
          status,
          {
            description: r.description,
            ...(r.schema
              ? { content: { 'application/json': { schema: toSchema(r.schema) } } }
              : Number(status) >= 400
                ? {
                    content: {
                      'application/json': { schema: { $ref: '#/components/schemas/Error' } },
                    },
                  }
                : {}),
          },
        ]),
        [
          'default',
          {
            description: 'error',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        ],
      ]),
    };
    if (spec.request?.body) {
      op.requestBody = {
        required: true,
        content: { 'application/json': { schema: toSchema(spec.request.body) } },
      };
    }
    if (spec.auth !== 'none') {
      usedSchemes.add(spec.auth);
      op.security = [{ [spec.auth]: [] }];
    }
    const path = toOpenApiPath(spec.path);
    paths[path] = { ...(paths[path] ?? {}), [spec.method]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'P2P lending marketplace API',
      version: info.version,
      description:
        'Client routes under /api/v1 (Bearer token), partner routes under /partner/v1 and gateway callbacks under /callbacks/v1 (signed), admin routes under /admin/v1. Errors: {"error":{"code","message","details"}}. Amounts are integer IDR.',
    },
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: Object.fromEntries([...usedSchemes].map((s) => [s, SECURITY[s].scheme])),
    },
  };
}
