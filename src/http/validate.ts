import Joi from 'joi';
import type { Middleware } from 'koa';
import { AppError } from '../lib/errors';

/** What a route may validate; each part is a joi object schema. */
export interface RequestSchemas {
  body?: Joi.ObjectSchema;
  query?: Joi.ObjectSchema;
  params?: Joi.ObjectSchema;
}

const OPTIONS: Joi.ValidationOptions = {
  abortEarly: false,
  allowUnknown: false,
  stripUnknown: false,
  convert: true,
  errors: { wrap: { label: false } },
};

function check(schema: Joi.ObjectSchema, value: unknown, where: string): unknown {
  const { value: out, error } = schema.validate(value ?? {}, OPTIONS);
  if (error) {
    throw new AppError(
      'VALIDATION_ERROR',
      `invalid ${where}`,
      error.details.map((d) => ({ path: d.path.join('.') || where, message: d.message })),
    );
  }
  return out;
}

/**
 * Validates params, query and body with joi (unknown fields rejected, values converted) and
 * puts the results on ctx.state.params / query / body for the handler.
 */
export function validate(schemas: RequestSchemas): Middleware {
  return async (ctx, next) => {
    if (schemas.params) ctx.state.params = check(schemas.params, ctx.params, 'params');
    if (schemas.query) ctx.state.query = check(schemas.query, ctx.query, 'query');
    if (ctx.request.length && !ctx.is('json')) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send JSON (Content-Type: application/json)');
    }
    if (schemas.body)
      ctx.state.body = check(schemas.body, (ctx.request as { body?: unknown }).body, 'body');
    else if (hasBody(ctx.request as { body?: unknown })) {
      throw new AppError('VALIDATION_ERROR', 'this route takes no body', [
        { path: 'body', message: 'not allowed' },
      ]);
    }
    await next();
  };
}

function hasBody(req: { body?: unknown }): boolean {
  const b = req.body;
  return (
    b !== undefined &&
    b !== null &&
    !(typeof b === 'object' && Object.keys(b as object).length === 0)
  );
}

/** A row id in a path, body or job payload: a BIGINT as digits. */
export const rowId = Joi.string().pattern(/^\d{1,18}$/);

/** The `:id` path parameter of every route that names one row. */
export const idParam = Joi.object({ id: rowId.required() });

/** The SPEC's paging query: page from 1, pageSize ≤ 100. */
export const pagingQuery = {
  page: Joi.number().integer().min(1).default(1),
  pageSize: Joi.number().integer().min(1).max(100).default(20),
};
