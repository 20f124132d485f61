import Joi from 'joi';
import { idOut, idrOut, pageOf, rateOut } from '../../http/output';
import { pagingQuery } from '../../http/validate';
import { OrderStatus } from './order.states';

/** An order as GET /api/v1/orders/:id answers it. */
export const orderOut = Joi.object({
  id: Joi.string(),
  creditorNo: Joi.string(),
  amount: Joi.number().integer(),
  payWith: Joi.string().valid('card', 'wallet'),
  source: Joi.string().valid('manual', 'auto').description('auto: placed by an auto-invest rule'),
  status: Joi.string().valid(...Object.values(OrderStatus)),
  failCode: Joi.string().allow(null),
  failReason: Joi.string().allow(null),
  createdAt: Joi.date(),
  paidAt: Joi.date().allow(null),
});

/** POST /api/v1/orders (seed item 13). */
export const placeOrderBody = Joi.object({
  creditorNo: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,64}$/)
    .required(),
  amount: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER).required(),
  payWith: Joi.string().valid('card', 'wallet').required(),
});

/** 202 of POST /api/v1/orders. */
export const placedOrder = Joi.object({ id: Joi.string(), status: Joi.string() });

/** GET /api/v1/me/orders (seed item 8): status 1 investing / 2 ended, productType, flag 0-4. */
export const investmentsQuery = Joi.object({
  ...pagingQuery,
  status: Joi.number().integer().valid(1, 2),
  productType: Joi.number().integer().valid(1, 2, 3).default(1),
  flag: Joi.number().integer().valid(0, 1, 2, 3, 4).default(1),
  startTime: Joi.date().iso().when('flag', { is: 0, then: Joi.required() }),
  endTime: Joi.date().iso().when('flag', { is: 0, then: Joi.required() }),
});

/** GET /api/v1/me/orders (seed item 8): times in epoch milliseconds as in the seed. */
export const investmentsPage = pageOf(
  Joi.object({
    id: idOut.description("the order's (primary) or credit order's (secondary) id"),
    market: Joi.string().valid('primary', 'secondary'),
    source: Joi.string().valid('manual', 'auto'),
    creditorNo: Joi.string(),
    amountBuy: idrOut,
    term: Joi.number().integer(),
    yearRateFin: rateOut,
    buyTime: Joi.number().integer().allow(null),
    dueTime: Joi.number().integer().allow(null),
    actReturnTime: Joi.number().integer().allow(null),
    createTime: Joi.number().integer().allow(null),
    income: idrOut,
    status: Joi.number().integer().valid(1, 2),
    productType: Joi.number().integer().valid(1),
  }),
);
