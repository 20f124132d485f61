import Joi from 'joi';
import { pagingQuery } from '../../http/validate';

/** GET /me/assets: a page, optionally one of the seed's lists. */
export const assetsQuery = Joi.object({
  ...pagingQuery,
  type: Joi.string().valid('transferable', 'transferring', 'transferred'),
});
