import Joi from 'joi';
import { idOut, idrOut, pageOf, rateOut } from '../../http/output';
import { pagingQuery, rowId as id } from '../../http/validate';
import { CreditOrderStatus } from './credit-order.states';
/** A discount in percent: a number or a decimal string, kept as a string (decimal.js reads it). */
const discountRate = Joi.alternatives()
  .try(Joi.number().min(0).max(99.9999), Joi.string().pattern(/^\d{1,2}(\.\d{1,4})?$/))
  .default('0')
  .custom((v: number | string) => String(v));
/** POST /credit-notes and /credit-notes/calc. */
export const noteBody = Joi.object({
  assetId: id.required(),
  amount: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER).required(),
  discountRate,
});
/** POST /credit-orders and /credit-orders/calc. */
export const orderBody = Joi.object({
  noteId: id.required(),
  principal: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER).required(),
});
/** The 422 every note step can answer. */
export const refusals = {
  422: {
    description:
      'a transfer rule: LOAN_NOT_REPAYING, HOLD_DAYS_NOT_REACHED, TOO_CLOSE_TO_REPAYMENT, AMOUNT_NOT_INCREMENT …',
  },
};

/** GET /credit-notes (the market). */
export const marketNotesQuery = Joi.object(pagingQuery);

/** GET /credit-notes/:id. */
export const noteQuery = Joi.object({ isLong: Joi.boolean().default(false) });

/** GET /me/credit-notes: type 2 selling, 3 sold. */
export const userNotesQuery = Joi.object({
  ...pagingQuery,
  type: Joi.number().integer().valid(2, 3).default(2),
});

/** The SPEC's note out; `isLong=true` adds the interest figures. */
export const noteOut = Joi.object({
  id: idOut,
  assetId: idOut,
  creditorNo: Joi.string(),
  amount: idrOut,
  tradedAmount: idrOut,
  discountRate: rateOut.description('percent off, 4 decimals'),
  isClosed: Joi.boolean(),
  isCancelled: Joi.boolean(),
  endTime: Joi.date(),
});

/** The note out with `isLong=true`: the interest accrued and still to come on the unsold part. */
export const noteLongOut = noteOut.keys({
  currentInterest: idrOut,
  remainingInterest: idrOut,
});

/** GET /api/v1/credit-notes/:id: the note, long or not. */
export const noteDetailOut = Joi.alternatives().try(noteOut, noteLongOut);

/** GET /api/v1/credit-notes. */
export const notesPage = pageOf(noteOut);

/** GET /api/v1/me/credit-notes: the page with the seed's stats. */
export const userNotesPage = pageOf(noteOut).keys({
  stats: Joi.object({
    type: Joi.number().integer().valid(2, 3),
    totalCount: Joi.number().integer(),
    tradedTotalAmount: idrOut,
    tradingTotalAmount: idrOut,
  }),
});

/** POST /api/v1/credit-notes/calc. */
export const noteCalcOut = Joi.object({
  assetId: idOut,
  amount: idrOut,
  discountRate: rateOut,
  maxTradableAmount: idrOut,
  currentInterest: idrOut,
  remainingInterest: idrOut,
  price: idrOut.description('what a buyer of the whole note would pay today'),
});

/** POST /api/v1/credit-orders/calc. */
export const creditOrderCalcOut = Joi.object({
  noteId: idOut,
  principal: idrOut,
  interest: idrOut,
  payAmount: idrOut,
  fee: idrOut,
});

/** 202 of POST /api/v1/credit-orders. */
export const placedCreditOrder = Joi.object({
  id: idOut,
  status: Joi.string().valid(...Object.values(CreditOrderStatus)),
});

/** The SPEC's credit order out. */
export const creditOrderOut = Joi.object({
  id: idOut,
  noteId: idOut,
  principal: idrOut,
  interest: idrOut,
  payAmount: idrOut,
  fee: idrOut,
  status: Joi.string().valid(...Object.values(CreditOrderStatus)),
  buyerPaymentStatus: Joi.number().integer().min(0).max(3),
  sellerRefundStatus: Joi.number().integer(),
  failCode: Joi.string().allow(null),
  failReason: Joi.string().allow(null),
});
