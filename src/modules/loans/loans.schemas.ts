import Joi from 'joi';
import { Dec } from '../../lib/money';

/** A yearly rate in percent: a JSON number or string, 0-100, at most 4 decimals; normalised to "12.5000". */
export const rateSchema = Joi.alternatives()
  .try(Joi.number(), Joi.string().pattern(/^\d{1,3}(\.\d{1,4})?$/))
  .custom((value: number | string, helpers) => {
    const d = new Dec(String(value));
    if (d.isNegative() || d.greaterThan(100) || d.decimalPlaces() > 4)
      return helpers.error('rate.invalid');
    return d.toFixed(4);
  })
  .messages({
    'rate.invalid': '{{#label}} must be a percentage from 0 to 100 with at most 4 decimals',
  });

const idr = Joi.number().integer().min(0).max(Number.MAX_SAFE_INTEGER);

/** POST /partner/v1/loans: every field of seed 000 item 9. */
export const loanIntakeBody = Joi.object({
  creditorNo: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,64}$/)
    .required(),
  loanPurpose: Joi.string().max(200).required(),
  riskLevel: Joi.string().max(20).required(),
  yearRateFin: rateSchema.required(),
  yearRateLoan: rateSchema.required(),
  term: Joi.number().integer().min(1).max(3650).required(),
  termUnit: Joi.string().valid('day', 'month').required(),
  repaymentMethod: Joi.string()
    .valid('bullet', 'monthly_interest', 'equal_installment')
    .required()
    .when('termUnit', {
      is: 'day',
      then: Joi.invalid('monthly_interest', 'equal_installment').messages({
        'any.invalid': '{{#label}} must be bullet for a term in days',
      }),
      otherwise: Joi.invalid('bullet').messages({
        'any.invalid': '{{#label}} must be monthly for a term in months',
      }),
    }),
  amountApply: idr.min(1).required(),
  serviceFee: idr.required().less(Joi.ref('amountApply')),
  publishedAt: Joi.date().iso().required(),
  borrowerId: Joi.string().max(64).required(),
  bankCode: Joi.string().max(32).required(),
  bankName: Joi.string().max(100).required(),
  bankCardNo: Joi.string()
    .pattern(/^\d{8,30}$/)
    .required(),
  bankCardHolder: Joi.string().max(100).required(),
  source: Joi.string().max(32).default('doit'),
});

export interface LoanIntake {
  creditorNo: string;
  loanPurpose: string;
  riskLevel: string;
  yearRateFin: string;
  yearRateLoan: string;
  term: number;
  termUnit: 'day' | 'month';
  repaymentMethod: 'bullet' | 'monthly_interest' | 'equal_installment';
  amountApply: number;
  serviceFee: number;
  publishedAt: Date;
  borrowerId: string;
  bankCode: string;
  bankName: string;
  bankCardNo: string;
  bankCardHolder: string;
  source: string;
}

/** GET /api/v1/loans query: min/max filters on rate, amount and term, paging, sorting. */
export const loanListQuery = Joi.object({
  page: Joi.number().integer().min(1).default(1),
  pageSize: Joi.number().integer().min(1).max(100).default(20),
  minYearRateFin: rateSchema,
  maxYearRateFin: rateSchema,
  minAmountApply: idr,
  maxAmountApply: idr,
  minTerm: Joi.number().integer().min(1),
  maxTerm: Joi.number().integer().min(1),
  termUnit: Joi.string().valid('day', 'month'),
  sort: Joi.string()
    .valid('yearRateFin', 'amountApply', 'term', 'publishedAt')
    .default('publishedAt'),
  order: Joi.string().valid('asc', 'desc').default('desc'),
});

export const amountOut = Joi.alternatives(Joi.number().integer(), Joi.string()).description(
  'integer IDR',
);

/** The SPEC's loan out. */
export const loanOut = Joi.object({
  creditorNo: Joi.string(),
  status: Joi.string(),
  loanPurpose: Joi.string(),
  riskLevel: Joi.string(),
  amountApply: amountOut,
  yearRateFin: Joi.string().description('percent, 4 decimals'),
  term: Joi.number().integer(),
  termUnit: Joi.string(),
  repaymentMethod: Joi.string(),
  lockedAmount: amountOut,
  boughtAmount: amountOut,
  availableAmount: amountOut,
  progress: Joi.number().description('0-100'),
  publishedAt: Joi.date(),
  deadline: Joi.date(),
  loanTime: Joi.date().allow(null),
  dueTime: Joi.date().allow(null),
});

/** A loan's creditorNo in a path. */
export const creditorNoParam = Joi.object({
  creditorNo: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,64}$/)
    .required(),
});

/** One period of a loan's repayment plan, as the partner reads it. */
export const planRowOut = Joi.object({
  period: Joi.number().integer(),
  dueDate: Joi.string().description('YYYY-MM-DD (Jakarta)'),
  principal: amountOut,
  interest: amountOut,
  status: Joi.string().valid('pending', 'paid'),
});
