import Joi from 'joi';

export const bankItem = Joi.object({
  bankCode: Joi.string(),
  bankName: Joi.string(),
  binPrefixes: Joi.array().items(Joi.string()),
});

export const bindCardBody = Joi.object({
  bankCode: Joi.string().max(32).required(),
  cardNo: Joi.string()
    .pattern(/^\d{12,19}$/)
    .message('{{#label}} must be 12 to 19 digits')
    .required(),
  password: Joi.string()
    .max(128)
    .description('the account password; required when this replaces a bound card'),
});

export const cardResult = Joi.object({
  id: Joi.string(),
  bankCode: Joi.string(),
  bankName: Joi.string(),
  cardNo: Joi.string().description('masked, ****1234'),
  boundAt: Joi.date(),
});

/** 200 of GET /api/v1/banks. */
export const bankList = Joi.object({ items: Joi.array().items(bankItem) });
