import { ApiRouter, type RouteGuards } from '../../http/api-router';
import type { Runtime } from '../../runtime';
import { receiveRepayment, repaymentView } from './repayments.service';
import { repaymentBody, repaymentOut } from './repayments.schemas';

/** Repayment reports from the partner (seed item 14). */
export function repaymentsRoutes(deps: Pick<Runtime, 'cipher'>, guards: RouteGuards): ApiRouter {
  return new ApiRouter(guards).route(
    {
      method: 'post',
      path: '/partner/v1/repayments',
      summary:
        'Partner reports a repayment (straight into escrow), or an early payoff (payoff: true); idempotent by repaymentNo',
      tags: ['partner'],
      auth: 'partner',
      request: {
        body: repaymentBody,
      },
      responses: {
        201: {
          description: 'recorded; the gateway confirms, then it is cleared',
          schema: repaymentOut,
        },
        200: { description: 'the same repayment again', schema: repaymentOut },
        409: {
          description:
            'CONFLICT: other figures under this repaymentNo, or the loan takes no repayment',
        },
      },
    },
    async (ctx) => {
      const { repayment, created } = await receiveRepayment(deps.cipher, ctx.state.body);
      ctx.status = created ? 201 : 200;
      ctx.body = repaymentView(repayment);
    },
  );
}
