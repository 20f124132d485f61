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

/** What the open-loan list sorts by. */
export type LoanListSort = 'yearRateFin' | 'amountApply' | 'term' | 'publishedAt';

/** Where a page of the list ended: the next page starts after (key, id) in the same order. */
export interface LoanListCursor {
  sort: LoanListSort;
  order: 'asc' | 'desc';
  /** Fingerprint of the filters the cursor was made under. */
  filters: string;
  /** The last item's sort value as exact text (see CURSOR_KEY). */
  key: string;
  id: string;
  /** The page the last item was on. */
  page: number;
}

/** A cursor as clients see it: opaque base64url JSON. */
export function encodeLoanListCursor(c: LoanListCursor): string {
  return Buffer.from(
    JSON.stringify({ s: c.sort, o: c.order, f: c.filters, k: c.key, i: c.id, p: c.page }),
  ).toString('base64url');
}

/** The shape of each sort's value in a cursor (exact text of the column; timestamps in µs). */
const CURSOR_KEY: Record<LoanListSort, RegExp> = {
  yearRateFin: /^\d{1,5}\.\d{4}$/,
  amountApply: /^\d{1,19}$/,
  term: /^\d{1,10}$/,
  publishedAt: /^-?\d{1,18}$/,
};

/** The cursor inside an opaque string, or undefined when it is not one of ours. */
export function decodeLoanListCursor(text: string): LoanListCursor | undefined {
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!c || typeof c !== 'object') return undefined;
  const { s, o, f, k, i, p } = c;
  if (typeof s !== 'string' || !Object.hasOwn(CURSOR_KEY, s)) return undefined;
  const sort = s as LoanListSort;
  if (o !== 'asc' && o !== 'desc') return undefined;
  if (typeof f !== 'string' || !/^[0-9a-f]{16}$/.test(f)) return undefined;
  if (typeof k !== 'string' || !CURSOR_KEY[sort].test(k)) return undefined;
  if (typeof i !== 'string' || !/^\d{1,19}$/.test(i)) return undefined;
  if (typeof p !== 'number' || !Number.isSafeInteger(p) || p < 1) return undefined;
  return { sort, order: o, filters: f, key: k, id: i, page: p };
}

/**
 * GET /api/v1/loans query: min/max filters on rate, amount and term, sorting, and paging by
 * `page` or by `cursor` (the previous page's `nextCursor`, with the same filters and sort).
 */
export const loanListQuery = Joi.object({
  page: Joi.number().integer().min(1),
  cursor: Joi.string()
    .max(400)
    .custom(
      (value: string, helpers) => decodeLoanListCursor(value) ?? helpers.error('cursor.invalid'),
    )
    .messages({ 'cursor.invalid': '{{#label}} is not a cursor of this list' })
    .description("the previous page's nextCursor; the same filters, sort and order"),
  pageSize: Joi.number().integer().min(1).max(100).default(20),
  minYearRateFin: rateSchema,
  maxYearRateFin: rateSchema,
  minAmountApply: idr,
  maxAmountApply: idr,
  minTerm: Joi.number().integer().min(1),
  maxTerm: Joi.number().integer().min(1),
  termUnit: Joi.string().valid('day', 'month'),
  sort: Joi.string()
    .valid(...(Object.keys(CURSOR_KEY) as LoanListSort[]))
    .default('publishedAt'),
  order: Joi.string().valid('asc', 'desc').default('desc'),
}).oxor('page', 'cursor');

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

/** GET /partner/v1/loans/:creditorNo: the loan with its rates, fee and plan. */
export const partnerLoanOut = loanOut.keys({
  yearRateLoan: Joi.string(),
  serviceFee: Joi.alternatives(Joi.number().integer(), Joi.string()),
  repaymentPlan: Joi.array().items(planRowOut),
});

/** 200 of GET /api/v1/loans. */
export const loanPage = Joi.object({
  items: Joi.array().items(loanOut),
  page: Joi.number(),
  pageSize: Joi.number(),
  total: Joi.number().description(
    'open loans matching the filters, counted at most ~2 s ago (cached per filter)',
  ),
  nextCursor: Joi.string()
    .allow(null)
    .description('pass as cursor for the next page; null on the last page'),
});

/** GET /api/v1/loans/:creditorNo: the loan, its rates and fee, and the borrower (masked). */
export const loanDetailOut = loanOut.keys({
  yearRateLoan: Joi.string(),
  serviceFee: amountOut,
  borrower: Joi.object({
    name: Joi.string().description('masked'),
    sex: Joi.string().allow(null),
    age: Joi.number().integer().allow(null),
    education: Joi.string().allow(null),
    identity: Joi.string().allow(null),
    religion: Joi.string().allow(null),
    isMarried: Joi.boolean().allow(null),
    verified: Joi.object({
      identity: Joi.boolean(),
      bankCard: Joi.boolean(),
      contacts: Joi.boolean(),
      insurance: Joi.boolean(),
      family: Joi.boolean(),
    }),
  })
    .allow(null)
    .description('null until the borrower is fetched from the partner'),
});
