import Joi from 'joi';
import { idOut, idrOut, pageOf } from '../../http/output';
import { pagingQuery } from '../../http/validate';
import { cardResult } from '../banks/banks.schemas';
import { KycStatus } from '../kyc/kyc.states';
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

/** GET /api/v1/me: the masked profile, KYC and card. */
export const profileOut = Joi.object({
  id: idOut,
  mobile: Joi.string().description('masked'),
  kyc: Joi.object({
    verified: Joi.boolean(),
    status: Joi.string().valid(...Object.values(KycStatus)),
    realName: Joi.string().allow(null).description('masked'),
    idCardNo: Joi.string().allow(null).description('masked NIK'),
    reason: Joi.string().allow(null).description('why a submission was rejected'),
  }),
  bankCard: cardResult.allow(null),
  createdAt: Joi.date(),
});

/** GET /api/v1/me/ledger: the investor's entries, newest first. */
export const ledgerPage = pageOf(
  Joi.object({
    id: idOut,
    transactionId: idOut,
    kind: Joi.string().valid(...Object.values(LedgerKind)),
    account: Joi.string().valid('available', 'locked', 'invested'),
    amount: idrOut.description('signed: positive adds to the account'),
    balanceAfter: idrOut,
    memo: Joi.string().allow(null),
    createdAt: Joi.date(),
  }),
);
