import Joi from 'joi';
import { pagingQuery } from '../../http/validate';
import { Dec } from '../../lib/money';
import { rateSchema } from '../loans/loans.schemas';
import { SkipReason } from './auto-invest.states';

const idr = Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER);
const METHODS = ['bullet', 'monthly_interest', 'equal_installment'] as const;

/**
 * PUT /api/v1/me/auto-invest: the whole rule (a PUT replaces it). `amountPerLoan` is also
 * checked against MIN_INVEST_AMOUNT and INVEST_STEP_AMOUNT by the service (configuration).
 * Omitted filters match everything: no rate bound, every repayment method, any term, any risk
 * level, no reserve, no cap.
 */
export const ruleBody = Joi.object({
  enabled: Joi.boolean().required(),
  amountPerLoan: idr
    .min(1)
    .required()
    .description('IDR per loan: a multiple of the step, ≥ the minimum'),
  minYearRate: rateSchema.allow(null).description('percent per year, inclusive'),
  maxYearRate: rateSchema.allow(null).description('percent per year, inclusive'),
  repaymentMethods: Joi.array()
    .items(Joi.string().valid(...METHODS))
    .min(1)
    .unique()
    .default([...METHODS]),
  maxTermDays: Joi.number()
    .integer()
    .min(1)
    .max(36_500)
    .allow(null)
    .description('a month counts as 30 days'),
  riskLevels: Joi.array().items(Joi.string().max(20)).min(1).max(20).unique().allow(null),
  reserveBalance: idr.default(0).description('the wallet is never taken below it'),
  maxTotalInvested: idr
    .min(1)
    .allow(null)
    .description("cap on the investor's outstanding principal"),
})
  .custom((v: { minYearRate?: string | null; maxYearRate?: string | null }, helpers) => {
    const { minYearRate: lo, maxYearRate: hi } = v;
    if (lo != null && hi != null && new Dec(lo).greaterThan(hi))
      return helpers.error('rates.order');
    return v;
  })
  .messages({ 'rates.order': 'minYearRate must not be above maxYearRate' });

/** The validated PUT body. */
export interface RuleInput {
  enabled: boolean;
  amountPerLoan: number;
  minYearRate?: string | null;
  maxYearRate?: string | null;
  repaymentMethods: string[];
  maxTermDays?: number | null;
  riskLevels?: string[] | null;
  reserveBalance: number;
  maxTotalInvested?: number | null;
}

/** The rule as GET and PUT answer it. */
export const ruleOut = Joi.object({
  enabled: Joi.boolean(),
  amountPerLoan: Joi.number().integer(),
  minYearRate: Joi.string().allow(null),
  maxYearRate: Joi.string().allow(null),
  repaymentMethods: Joi.array().items(Joi.string()),
  maxTermDays: Joi.number().integer().allow(null),
  riskLevels: Joi.array().items(Joi.string()).allow(null),
  reserveBalance: Joi.number().integer(),
  maxTotalInvested: Joi.number().integer().allow(null),
  enabledAt: Joi.date().allow(null),
  lastServedAt: Joi.date().allow(null),
  createdAt: Joi.date(),
  updatedAt: Joi.date(),
});

/** GET /api/v1/me/auto-invest/history. */
export const historyQuery = Joi.object({ ...pagingQuery });

/** One line of the history. */
export const historyItem = Joi.object({
  id: Joi.string(),
  creditorNo: Joi.string(),
  amount: Joi.number().integer(),
  outcome: Joi.string().valid('invested', 'rejected', 'pending', 'skipped'),
  reason: Joi.string()
    .allow(null)
    .description(
      `skipped: ${Object.values(SkipReason).join(', ')}; rejected: the order's failCode`,
    ),
  reasonMessage: Joi.string().allow(null),
  orderId: Joi.string().allow(null),
  createdAt: Joi.date(),
});

export const historyPage = Joi.object({
  items: Joi.array().items(historyItem),
  page: Joi.number().integer(),
  pageSize: Joi.number().integer(),
  total: Joi.number().integer(),
});
