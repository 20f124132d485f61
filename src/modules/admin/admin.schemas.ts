import Joi from 'joi';
import { pagingQuery } from '../../http/validate';
import { mobileSchema } from '../../lib/identity';
import { KycStatus } from '../kyc/kyc.states';

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
