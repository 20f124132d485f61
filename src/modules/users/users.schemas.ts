import Joi from 'joi';
import { pagingQuery } from '../../http/validate';
import { LedgerKind } from '../ledger/ledger.kinds';

const amount = Joi.alternatives(
  Joi.number().integer(),
  Joi.string().pattern(/^-?\d+$/),
).description('integer IDR');

export const accountResult = Joi.object({
  userId: Joi.string(),
  sanbiaoBalance: amount,
  sanbiaoLockBalance: amount,
  currentBalance: amount,
  currentLockBalance: amount,
  depositBalance: amount,
  depositLockBalance: amount,
  availableBalance: amount,
  lockedBalance: amount,
  totalIncome: amount,
});

export const ledgerQuery = Joi.object({
  ...pagingQuery,
  account: Joi.string().valid('available', 'locked', 'invested'),
  kind: Joi.string().valid(...Object.values(LedgerKind)),
  startTime: Joi.date().iso(),
  endTime: Joi.date().iso(),
});
