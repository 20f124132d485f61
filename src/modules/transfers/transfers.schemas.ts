import Joi from 'joi';
import { pagingQuery, rowId as id } from '../../http/validate';
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
