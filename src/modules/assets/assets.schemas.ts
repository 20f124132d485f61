import Joi from 'joi';
import { idOut, idrOut, pageOf } from '../../http/output';
import { pagingQuery } from '../../http/validate';
import { AssetStatus } from './asset.states';

/** GET /me/assets: a page, optionally one of the seed's lists. */
export const assetsQuery = Joi.object({
  ...pagingQuery,
  type: Joi.string().valid('transferable', 'transferring', 'transferred'),
});

const assetFields = {
  id: idOut,
  creditorNo: Joi.string(),
  amount: idrOut.description('principal still held'),
  maxTradableAmount: idrOut,
  tradeCount: Joi.number().integer(),
  status: Joi.string().valid(...Object.values(AssetStatus)),
  nextRepaymentDate: Joi.string().allow(null).description('YYYY-MM-DD'),
};

/** GET /api/v1/me/assets: a page of assets with the seed's totals. */
export const assetsPage = pageOf(Joi.object(assetFields)).keys({
  creditAmount: idrOut,
  tradingTotalAmount: idrOut,
  tradedTotalAmount: idrOut,
});

/** GET /api/v1/me/assets/:id: one asset with its schedule. */
export const assetOut = Joi.object({
  ...assetFields,
  schedule: Joi.array().items(
    Joi.object({
      period: Joi.number().integer(),
      dueDate: Joi.string().description('YYYY-MM-DD'),
      principal: idrOut,
      interest: idrOut,
      status: Joi.string().valid('pending', 'paid'),
    }),
  ),
});
