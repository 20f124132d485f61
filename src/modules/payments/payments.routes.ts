import Joi from 'joi';
import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { recordCallback } from './payments.service';

/** The gateway's callback route: signed, stored raw, answered at once; a job applies it. */
export function paymentsRoutes(guards: RouteGuards): ApiRouter {
  return new ApiRouter(guards).route(
    {
      method: 'post',
      path: '/callbacks/v1/payments',
      summary:
        'Gateway callback {instructionId, gatewayTxnId, status, amount, failReason?}; signed; 200 once stored',
      tags: ['gateway'],
      auth: 'gateway',
      request: {
        body: Joi.object({
          instructionId: Joi.alternatives(
            Joi.string().pattern(/^\d{1,18}$/),
            Joi.number().integer().min(1),
          ).required(),
          gatewayTxnId: Joi.string().max(128).required(),
          status: Joi.string().valid('success', 'failed').required(),
          amount: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER).required(),
          failReason: Joi.string().max(500),
        }),
      },
      responses: {
        200: { description: 'stored', schema: Joi.object({ received: Joi.boolean() }) },
        401: { description: 'INVALID_SIGNATURE' },
      },
    },
    async (ctx) => {
      await recordCallback(
        { ...ctx.state.body, instructionId: String(ctx.state.body.instructionId) },
        ctx.state.rawBody,
        ctx.state.signature,
      );
      ctx.body = { received: true };
    },
  );
}
