import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { callbackBody, callbackReceived } from './payments.schemas';
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
        body: callbackBody,
      },
      responses: {
        200: { description: 'stored', schema: callbackReceived },
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
