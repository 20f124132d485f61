import Joi from 'joi';

/** POST /callbacks/v1/payments: the gateway's signed callback (SPEC §5). */
export const callbackBody = Joi.object({
  instructionId: Joi.alternatives(
    Joi.string().pattern(/^\d{1,18}$/),
    Joi.number().integer().min(1),
  ).required(),
  gatewayTxnId: Joi.string().max(128).required(),
  status: Joi.string().valid('success', 'failed').required(),
  amount: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER).required(),
  failReason: Joi.string().max(500),
});

/** 200 of POST /callbacks/v1/payments. */
export const callbackReceived = Joi.object({ received: Joi.boolean() });
