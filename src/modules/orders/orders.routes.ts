import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { idParam } from '../../http/validate';
import { listInvestments } from './investments.service';
import {
  investmentsQuery,
  orderOut,
  placedOrder,
  placeOrderBody,
  investmentsPage,
} from './orders.schemas';
import { orderDetail, placeOrder } from './orders.service';
import { renderAgreement } from '../agreements/agreement.service';
import type { Runtime } from '../../runtime';

/** Purchase (seed item 13), order status, and the investment list of seed item 8. */
export function ordersRoutes(deps: Pick<Runtime, 'cipher'>, guards: RouteGuards): ApiRouter {
  return new ApiRouter(guards)
    .route(
      {
        method: 'get',
        path: '/api/v1/orders/:id/agreement',
        summary: 'Loan service agreement of a paid order (HTML, parties masked)',
        tags: ['orders'],
        auth: 'investor',
        request: {
          params: idParam,
        },
        responses: {
          200: { description: 'the agreement, an HTML document', contentType: 'text/html' },
          404: { description: 'no such order of this investor' },
          409: { description: 'the order is not paid' },
        },
      },
      async (ctx) => {
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = await renderAgreement(
          deps.cipher,
          ctx.state.session.userId,
          ctx.state.params.id,
        );
      },
    )
    .route(
      {
        method: 'post',
        path: '/api/v1/orders',
        summary:
          'Buy a share of a loan: 202 pending; the lock job applies the rules; poll GET /api/v1/orders/:id',
        tags: ['orders'],
        auth: 'investor',
        idempotent: true,
        request: {
          body: placeOrderBody,
        },
        responses: {
          202: {
            description: 'accepted',
            schema: placedOrder,
          },
          404: { description: 'no such loan' },
        },
      },
      async (ctx) => {
        const order = await placeOrder(
          ctx.state.session.userId,
          ctx.state.body,
          ctx.get('Idempotency-Key') || undefined,
        );
        ctx.status = 202;
        ctx.body = { id: String(order.id), status: order.status };
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/orders/:id',
        summary: "One of the investor's orders",
        tags: ['orders'],
        auth: 'investor',
        request: {
          params: idParam,
        },
        responses: {
          200: { description: 'order', schema: orderOut },
          404: { description: 'no such order of this investor' },
        },
      },
      async (ctx) => {
        ctx.body = await orderDetail(ctx.state.session.userId, ctx.state.params.id);
      },
    )
    .route(
      {
        method: 'get',
        path: '/api/v1/me/orders',
        summary:
          'Investment list (seed item 8): primary purchases and secondary-market buys (market); status 1 investing / 2 ended, productType, flag 0-4 with startTime/endTime',
        tags: ['orders'],
        auth: 'investor',
        request: {
          query: investmentsQuery,
        },
        responses: { 200: { description: 'page of investments', schema: investmentsPage } },
      },
      async (ctx) => {
        ctx.body = await listInvestments(ctx.state.session.userId, ctx.state.query);
      },
    );
}
