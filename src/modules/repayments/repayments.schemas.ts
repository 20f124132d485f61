import Joi from 'joi';
import { idrOut } from '../../http/output';
import { RepaymentHoldCode, RepaymentStatus } from './repayment.states';

const idr = Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER);

/** POST /partner/v1/repayments (seed item 14). */
export const repaymentBody = Joi.object({
  creditorNo: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,64}$/)
    .required(),
  period: Joi.number().integer().min(1).required(),
  repaymentNo: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,64}$/)
    .required(),
  principal: idr.required(),
  interest: idr.required(),
  lateFee: idr.required(),
  overdueServiceFee: idr.required(),
  paidAt: Joi.date().iso().required(),
  payoff: Joi.boolean()
    .default(false)
    .description('early payoff: principal = everything outstanding, interest covers this period'),
});

/** A reported repayment as the partner reads it back. */
export const repaymentOut = Joi.object({
  repaymentNo: Joi.string(),
  creditorNo: Joi.string(),
  period: Joi.number().integer(),
  payoff: Joi.boolean(),
  total: idrOut,
  status: Joi.string().valid(...Object.values(RepaymentStatus)),
  holdCode: Joi.string()
    .valid(...Object.values(RepaymentHoldCode))
    .allow(null),
  holdReason: Joi.string().allow(null),
});
