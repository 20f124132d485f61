import Joi from 'joi';
import { nikSchema } from '../../lib/identity';
import { KycStatus } from './kyc.states';

export const kycResult = Joi.object({
  verified: Joi.boolean(),
  status: Joi.string().valid(...Object.values(KycStatus)),
});

export const kycBody = Joi.object({
  realName: Joi.string()
    .trim()
    .min(2)
    .max(100)
    .pattern(/^[\p{L}][\p{L} .'-]*$/u)
    .message("{{#label}} must be a name (letters, spaces, . ' -)")
    .required(),
  idCardNo: nikSchema.required(),
});
