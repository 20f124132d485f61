import Router from '@koa/router';
import type Joi from 'joi';
import type { Middleware } from 'koa';
import { validate, type RequestSchemas } from './validate';

/** How a route authenticates its caller (documented in OpenAPI as a security scheme). */
export type RouteAuth =
  'none' | 'investor' | 'admin' | 'partner' | 'gateway' | 'adminBasic' | 'metrics';

/** Everything the OpenAPI document says about one route; the same schemas validate requests. */
export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  tags: string[];
  auth: RouteAuth;
  request?: RequestSchemas;
  /**
   * Response bodies by status: a JSON body's joi schema (the handler's output follows it), or
   * the content type of another body; an entry without either has no body (204) or, for an
   * error status, the error shape.
   */
  responses: Record<number, { description: string; schema?: Joi.Schema; contentType?: string }>;
  /** Routes that take an Idempotency-Key header. */
  idempotent?: boolean;
}

/** Middleware that each kind of route needs: one guard per auth kind, and the idempotency layer. */
export interface RouteGuards {
  auth?: Partial<Record<Exclude<RouteAuth, 'none'>, Middleware>>;
  idempotency?: Middleware;
}

/**
 * A @koa/router whose every route is declared with a RouteSpec: the spec's auth picks the
 * guard (which runs first), then the idempotency layer, then joi validation, then the handler;
 * the same spec feeds /openapi.json, so no route can exist undocumented. Declaring a route
 * whose guard is missing throws at start-up.
 */
export class ApiRouter {
  readonly router = new Router();
  readonly specs: RouteSpec[] = [];

  constructor(private readonly guards: RouteGuards = {}) {}

  route(spec: RouteSpec, ...handlers: Middleware[]): this {
    const chain: Middleware[] = [];
    if (spec.auth !== 'none') {
      const guard = this.guards.auth?.[spec.auth];
      if (!guard)
        throw new Error(`no ${spec.auth} guard for ${spec.method.toUpperCase()} ${spec.path}`);
      chain.push(guard);
    }
    if (spec.idempotent) {
      if (!this.guards.idempotency) throw new Error(`no idempotency layer for ${spec.path}`);
      chain.push(this.guards.idempotency);
    }
    chain.push(validate(spec.request ?? {}), ...handlers);
    this.specs.push(spec);
    this.router[spec.method](spec.path, ...(chain as [Middleware]));
    return this;
  }
}
