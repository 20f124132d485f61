import Joi from 'joi';
import { idOut, idrOut, pageOf } from '../../http/output';
import { pagingQuery } from '../../http/validate';
import { mobileSchema } from '../../lib/identity';
import { KycStatus } from '../kyc/kyc.states';
import { INVESTOR_ACCOUNT_TYPES, PLATFORM_ACCOUNT_TYPES } from '../ledger/ledger.accounts';

/** GET /admin/v1/investors. */
export const investorsQuery = Joi.object({
  ...pagingQuery,
  mobile: mobileSchema,
  kycStatus: Joi.string().valid(...Object.values(KycStatus)),
  registeredFrom: Joi.date().iso(),
  registeredTo: Joi.date().iso(),
});

/** GET /admin/v1/kyc: the review queue by default. */
export const kycQueueQuery = Joi.object({
  ...pagingQuery,
  status: Joi.string()
    .valid('pending', 'manual_review', 'verified', 'rejected')
    .default('manual_review'),
});

/** The body of every back-office rejection: a reason the investor sees. */
export const reasonBody = Joi.object({ reason: Joi.string().trim().min(3).max(500).required() });

/** GET /admin/v1/investors: investors, PII masked. */
export const investorsPage = pageOf(
  Joi.object({
    id: idOut,
    mobile: Joi.string().description('masked'),
    kycStatus: Joi.string().valid(...Object.values(KycStatus)),
    bankCardBound: Joi.boolean(),
    lastLoginAt: Joi.date().allow(null),
    createdAt: Joi.date(),
  }),
);

/** GET /admin/v1/kyc: submissions, name and NIK masked. */
export const kycPage = pageOf(
  Joi.object({
    id: idOut,
    userId: idOut,
    realName: Joi.string().description('masked'),
    idCardNo: Joi.string().description('masked NIK'),
    status: Joi.string().valid(...Object.values(KycStatus)),
    verifiedBy: Joi.string().allow(null),
    reason: Joi.string().allow(null),
    reviewedBy: Joi.string().allow(null),
    reviewedAt: Joi.date().allow(null),
    createdAt: Joi.date(),
  }),
);

/** 200 of a KYC approval or rejection. */
export const kycReviewed = Joi.object({
  id: idOut,
  status: Joi.string().valid(KycStatus.Verified, KycStatus.Rejected),
});

/** GET /admin/v1/reconciliation: balances, instructions and what waits for finance. */
export const reconciliationOut = Joi.object({
  platformAccounts: Joi.object(Object.fromEntries(PLATFORM_ACCOUNT_TYPES.map((t) => [t, idrOut]))),
  investorAccounts: Joi.object(Object.fromEntries(INVESTOR_ACCOUNT_TYPES.map((t) => [t, idrOut]))),
  instructions: Joi.array().items(
    Joi.object({
      purpose: Joi.string(),
      status: Joi.string(),
      count: Joi.number().integer(),
      amount: idrOut,
    }),
  ),
  waitingForFinance: Joi.object({
    heldRepayments: Joi.number().integer(),
    pendingPartnerNotifications: Joi.number().integer(),
    disburseFailedLoans: Joi.number().integer(),
  }),
});
