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

/**
 * The buyer's payment (credit_orders.buyer_payment_status): none → paid | failed | unknown;
 * unknown → paid | failed (the status query's answer); failed → paid (a success the gateway
 * sends after its decline: the money is reversed, never kept); paid is final.
 */
export const buyerPaymentMachine = new StateMachine<BuyerPaymentStatus>(
  'buyer payment',
  {
    [BuyerPaymentStatus.None]: [
      BuyerPaymentStatus.Paid,
      BuyerPaymentStatus.Failed,
      BuyerPaymentStatus.Unknown,
    ],
    [BuyerPaymentStatus.Unknown]: [BuyerPaymentStatus.Paid, BuyerPaymentStatus.Failed],
    [BuyerPaymentStatus.Failed]: [BuyerPaymentStatus.Paid],
    [BuyerPaymentStatus.Paid]: [],
  },
  'buyerPaymentStatus',
);

/**
 * The seller's proceeds (credit_orders.seller_refund_status): none → paid (the settlement
 * credits the seller's wallet in the same transaction as the transfer); paid is final. `failed`
 * is kept from seed 003's codes; nothing moves a row there (the wallet credit cannot fail apart
 * from the settlement, which rolls back whole).
 */
export const sellerProceedsMachine = new StateMachine<SellerRefundStatus>(
  'seller proceeds',
  {
    [SellerRefundStatus.None]: [SellerRefundStatus.Paid],
    [SellerRefundStatus.Paid]: [],
    [SellerRefundStatus.Failed]: [],
  },
  'sellerRefundStatus',
);
