import Joi from 'joi';

/**
 * Building blocks of the response schemas (RouteSpec.responses): the handlers' outputs follow
 * them, the OpenAPI document is built from them, and the integration tests validate every
 * response against that document.
 */

/** An amount in integer IDR: a JSON number, or a string beyond 2^53 (never a float). */
export const idrOut = Joi.alternatives(
  Joi.number().integer(),
  Joi.string().pattern(/^-?\d+$/),
).description('integer IDR (a string beyond 2^53)');

/** A rate: percent per year with 4 decimals, "12.5000". */
export const rateOut = Joi.string()
  .pattern(/^-?\d+\.\d{4}$/)
  .description('percent per year, 4 decimals');

/** A row id (BIGINT) as a string. */
export const idOut = Joi.string().pattern(/^\d+$/);

/** The SPEC's list envelope around items of `item`. */
export const pageOf = (item: Joi.Schema) =>
  Joi.object({
    items: Joi.array().items(item).required(),
    page: Joi.number().integer().min(1).required(),
    pageSize: Joi.number().integer().min(1).required(),
    total: Joi.number().integer().min(0).required(),
  });
