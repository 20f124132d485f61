import Joi from 'joi';
import { Op, QueryTypes, literal, type WhereOptions } from 'sequelize';
import { ApiRouter, type RouteGuards } from '../../http/api-router';
import { AppError } from '../../lib/errors';
import { Dec, idrToJson, toIdr } from '../../lib/money';
import { Loan } from '../loans/loan.model';
import { LoanStatus } from '../loans/loan.states';
import { Order } from './order.model';
import { OrderStatus } from './order.states';
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

const ENDED_LOAN = [LoanStatus.Repaid, LoanStatus.Failed];
const DAY_MS = 86_400_000;

/** The start of today in Jakarta (UTC+7). */
const jakartaMidnight = (now: Date) =>
  new Date(Math.floor((now.getTime() + 7 * 3_600_000) / DAY_MS) * DAY_MS - 7 * 3_600_000);

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
          'Investment list (seed item 8): status 1 investing / 2 ended, productType, flag 0-4 with startTime/endTime',
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
        const q = ctx.state.query as {
          page: number;
          pageSize: number;
          status?: 1 | 2;
          productType: number;
          flag: number;
          startTime?: Date;
          endTime?: Date;
        };
        if (q.productType !== 1) {
          ctx.body = { items: [], page: q.page, pageSize: q.pageSize, total: 0 };
          return;
        }
        const now = new Date();
        const since = {
          2: jakartaMidnight(now),
          3: new Date(now.getTime() - 30 * DAY_MS),
          4: new Date(now.getTime() - 90 * DAY_MS),
        }[q.flag as 2 | 3 | 4];
        const created: Record<symbol, Date> = {};
        if (q.flag === 0) Object.assign(created, { [Op.gte]: q.startTime, [Op.lt]: q.endTime });
        else if (since) Object.assign(created, { [Op.gte]: since });
        const where: WhereOptions = { userId: ctx.state.session.userId, status: OrderStatus.Paid };
        if (Object.getOwnPropertySymbols(created).length)
          Object.assign(where, { createdAt: created });
        if (q.status !== undefined) {
          // A subquery, not a list of ids: there may be 100,000 loans.
          const ended = q.status === 2 ? 'IN' : 'NOT IN';
          Object.assign(where, {
            loanId: {
              [Op.in]: literal(`(SELECT id FROM loans WHERE status ${ended} ('repaid', 'failed'))`),
            },
          });
        }
        const { rows, count } = await Order.findAndCountAll({
          where,
          order: [['id', 'DESC']],
          limit: q.pageSize,
          offset: (q.page - 1) * q.pageSize,
        });
        const loans = new Map(
          (await Loan.findAll({ where: { id: [...new Set(rows.map((o) => o.loanId))] } })).map(
            (l) => [String(l.id), l],
          ),
        );
        const incomes = new Map(
          (
            await Order.sequelize!.query<{ order_id: string; income: string }>(
              `SELECT a.order_id, COALESCE(SUM(s.interest), 0)::text AS income FROM assets a
                 JOIN repayment_schedules s ON s.asset_id = a.id AND s.status = 'paid'
                WHERE a.order_id = ANY($1::bigint[]) GROUP BY a.order_id`,
              { bind: [rows.map((o) => o.id)], type: QueryTypes.SELECT },
            )
          ).map((r) => [String(r.order_id), toIdr(r.income)]),
        );
        ctx.body = {
          items: rows.map((o) => {
            const l = loans.get(String(o.loanId))!;
            return {
              id: String(o.id),
              creditorNo: o.creditorNo,
              amountBuy: idrToJson(o.amount),
              term: l.term,
              yearRateFin: new Dec(l.yearRateFin).toFixed(4),
              buyTime: o.paidAt?.getTime() ?? null,
              dueTime: l.dueTime?.getTime() ?? null,
              actReturnTime: l.repaidAt?.getTime() ?? null,
              createTime: o.createdAt.getTime(),
              // Interest received so far on this order's asset.
              income: idrToJson(incomes.get(String(o.id)) ?? 0n),
              status: ENDED_LOAN.includes(l.status) ? 2 : 1,
              productType: 1,
            };
          }),
          page: q.page,
          pageSize: q.pageSize,
          total: count,
        };
      },
    );
}
