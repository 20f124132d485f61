import Joi from 'joi';

/** 200 of GET /healthz. */
export const liveSchema = Joi.object({ status: Joi.string().valid('ok') });

/** 200 of GET /readyz. */
export const readySchema = Joi.object({
  status: Joi.string().valid('ready'),
  checks: Joi.object({ postgres: Joi.string().valid('up'), redis: Joi.string().valid('up') }),
});
