import Router from '@koa/router';
import type Joi from 'joi';
import type { Middleware } from 'koa';
import { validate, type RequestSchemas } from './validate';

/** How a route authenticates its caller (documented in OpenAPI as a security scheme). */
export type RouteAuth = 'none' | 'investor' | 'admin' | 'partner' | 'gateway' | 'adminBasic';

/** Everything the OpenAPI document says about one route; the same schemas validate requests. */
export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  summary: string;
  tags: string[];
  auth: RouteAuth;
  request?: RequestSchemas;
  /** Response bodies by status; a schema-less entry documents the status only. */
  responses: Record<number, { description: string; schema?: Joi.Schema }>;
  /** Routes that take an Idempotency-Key header. */
  idempotent?: boolean;
}

/**
 * A @koa/router whose every route is declared with a RouteSpec: the spec's schemas validate the
 * request and the same spec feeds /openapi.json, so no route can exist undocumented.
 */
export class ApiRouter {
  readonly router = new Router();
  readonly specs: RouteSpec[] = [];

  route(spec: RouteSpec, ...handlers: Middleware[]): this {
    this.specs.push(spec);
    const chain: Middleware[] = [
      ...(spec.request ? [validate(spec.request)] : [validate({})]),
      ...handlers,
    ];
    this.router[spec.method](spec.path, ...(chain as [Middleware]));
    return this;
  }
}
