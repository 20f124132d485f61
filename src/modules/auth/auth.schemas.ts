import Joi from 'joi';
import { mobileSchema, passwordSchema } from '../../lib/identity';

export const smsCodeBody = Joi.object({
  mobile: mobileSchema.required(),
  captchaId: Joi.string().max(64).required(),
  captchaText: Joi.string().max(16).required(),
  purpose: Joi.string().valid('register', 'login').required(),
});

const smsCode = Joi.string()
  .pattern(/^\d{6}$/)
  .message('{{#label}} must be 6 digits');

export const registerBody = Joi.object({
  mobile: mobileSchema.required(),
  smsCode: smsCode.required(),
  password: passwordSchema.required(),
});

export const loginBody = Joi.object({
  mobile: mobileSchema.required(),
  password: Joi.string().max(128),
  smsCode,
}).xor('password', 'smsCode');

export const changePasswordBody = Joi.object({
  oldPassword: Joi.string().max(128).required(),
  newPassword: passwordSchema
    .required()
    .invalid(Joi.ref('oldPassword'))
    .messages({ 'any.invalid': '{{#label}} must differ from the old password' }),
});

export const adminLoginBody = Joi.object({
  username: Joi.string().max(64).required(),
  password: Joi.string().max(128).required(),
});

export const authResult = Joi.object({
  token: Joi.string().required(),
  user: Joi.object({
    id: Joi.string(),
    mobile: Joi.string().description('masked, e.g. 0812****5678'),
  }),
});

export const captchaResult = Joi.object({
  captchaId: Joi.string().required(),
  svg: Joi.string().required(),
  devAnswer: Joi.string().description('outside production only'),
});

export const smsCodeResult = Joi.object({
  expiresIn: Joi.number().integer().description('seconds'),
  devCode: Joi.string().description('outside production only'),
});

/** 200 of POST /admin/v1/auth/login. */
export const adminToken = Joi.object({ token: Joi.string() });
