import Joi from 'joi';

export const amountBody = Joi.object({
  amount: Joi.number().integer().min(10_000).max(Number.MAX_SAFE_INTEGER).required(),
});
export const opOut = Joi.object({
  id: Joi.string(),
  amount: Joi.number(),
  status: Joi.string().valid('pending', 'succeeded', 'failed'),
  failReason: Joi.string().allow(null),
  createdAt: Joi.date(),
});
