import { StateMachine } from '../../lib/state-machine';

/** A credit order's status (seed 003). */
export enum CreditOrderStatus {
  Initial = 'initial',
  Processing = 'processing',
  Success = 'success',
  Failed = 'failed',
  Abnormal = 'abnormal',
}

/** The buyer's payment: 0 not yet, 1 paid, 2 failed, 3 unknown (the order goes abnormal). */
export enum BuyerPaymentStatus {
  None = 0,
  Paid = 1,
  Failed = 2,
  Unknown = 3,
}

/** The seller's proceeds: 0 not yet, 1 paid out, 2 failed. */
export enum SellerRefundStatus {
  None = 0,
  Paid = 1,
  Failed = 2,
}

/**
 * initial → processing (payment started) | failed (over-buy, short wallet); processing →
 * success (asset and schedule split, seller paid) | failed (payment declined) | abnormal
 * (payment result unknown); abnormal → processing (the abnormal job found the answer) | failed.
 */
export const creditOrderMachine = new StateMachine<CreditOrderStatus>('credit order', {
  [CreditOrderStatus.Initial]: [CreditOrderStatus.Processing, CreditOrderStatus.Failed],
  [CreditOrderStatus.Processing]: [
    CreditOrderStatus.Success,
    CreditOrderStatus.Failed,
    CreditOrderStatus.Abnormal,
  ],
  [CreditOrderStatus.Abnormal]: [CreditOrderStatus.Processing, CreditOrderStatus.Failed],
  [CreditOrderStatus.Success]: [],
  [CreditOrderStatus.Failed]: [],
});
