import Joi from 'joi';
import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { AppError } from '../../lib/errors';
import { Order } from './order.model';
import { OrderStatus } from './order.states';
import { listInvestments } from './investments.service';
import { orderView, placeOrder } from './orders.service';
import { renderAgreement } from '../agreements/agreement.service';
import type { Runtime } from '../../runtime';

const orderOut = Joi.object({
  id: Joi.string(),
  creditorNo: Joi.string(),
  amount: Joi.number().integer(),
  payWith: Joi.string().valid('card', 'wallet'),
  status: Joi.string().valid(...Object.values(OrderStatus)),
  failCode: Joi.string().allow(null),
  failReason: Joi.string().allow(null),
  createdAt: Joi.date(),
  paidAt: Joi.date().allow(null),
});

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
          params: Joi.object({
            id: Joi.string()
              .pattern(/^\d{1,18}$/)
              .required(),
          }),
        },
        responses: {
          200: { description: 'text/html document' },
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
          body: Joi.object({
            creditorNo: Joi.string()
              .pattern(/^[A-Za-z0-9_-]{1,64}$/)
              .required(),
            amount: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER).required(),
            payWith: Joi.string().valid('card', 'wallet').required(),
          }),
        },
        responses: {
          202: {
            description: 'accepted',
            schema: Joi.object({ id: Joi.string(), status: Joi.string() }),
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
          params: Joi.object({
            id: Joi.string()
              .pattern(/^\d{1,18}$/)
              .required(),
          }),
        },
        responses: {
          200: { description: 'order', schema: orderOut },
          404: { description: 'no such order of this investor' },
        },
      },
      async (ctx) => {
        const order = await Order.findOne({
          where: { id: ctx.state.params.id, userId: ctx.state.session.userId },
        });
        if (!order) throw new AppError('NOT_FOUND', 'no such order');
        ctx.body = orderView(order);
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
          query: Joi.object({
            page: Joi.number().integer().min(1).default(1),
            pageSize: Joi.number().integer().min(1).max(100).default(20),
            status: Joi.number().integer().valid(1, 2),
            productType: Joi.number().integer().valid(1, 2, 3).default(1),
            flag: Joi.number().integer().valid(0, 1, 2, 3, 4).default(1),
            startTime: Joi.date().iso().when('flag', { is: 0, then: Joi.required() }),
            endTime: Joi.date().iso().when('flag', { is: 0, then: Joi.required() }),
          }),
        },
        responses: { 200: { description: 'page of investments' } },
      },
      async (ctx) => {
        ctx.body = await listInvestments(ctx.state.session.userId, ctx.state.query);
      },
    );
}
