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

/** Why a credit order failed at one of its steps (failCode). */
export enum CreditOrderFailCode {
  NoteEnded = 'NOTE_ENDED',
  LoanNotRepaying = 'LOAN_NOT_REPAYING',
  AssetNotHeld = 'ASSET_NOT_HELD',
  PeriodRepaid = 'PERIOD_REPAID',
  Overbuy = 'OVERBUY',
  PaymentFailed = 'PAYMENT_FAILED',
  HasPartnerLoan = 'HAS_PARTNER_LOAN',
}

/**
 * initial → processing (note reserved, payment started) | failed (a rule, over-buy, short
 * wallet); processing → success (asset and schedule split, seller paid) | failed (payment
 * declined, or the note, asset, loan or priced period changed while it paid) | abnormal
 * (payment result unknown); abnormal → processing (the status query found the answer) | failed.
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
