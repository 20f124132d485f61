import { StateMachine } from '../../lib/state-machine';

/** A purchase order's life cycle, SPEC §3. */
export enum OrderStatus {
  Pending = 'pending',
  Locked = 'locked',
  Paying = 'paying',
  Paid = 'paid',
  Failed = 'failed',
  Expired = 'expired',
  Rejected = 'rejected',
  Refunding = 'refunding',
  Refunded = 'refunded',
}

/**
 * pending → locked (share reserved) | rejected (a rule failed); locked → paying (payment
 * started) | paid (wallet) | expired; paying → paid | failed (declined) | expired (lock timed
 * out); a success that arrives after expired or failed → paid (re-locked) or refunding →
 * refunded.
 */
export const orderMachine = new StateMachine<OrderStatus>('order', {
  [OrderStatus.Pending]: [OrderStatus.Locked, OrderStatus.Rejected],
  [OrderStatus.Locked]: [
    OrderStatus.Paying,
    OrderStatus.Paid,
    OrderStatus.Expired,
    OrderStatus.Failed,
  ],
  [OrderStatus.Paying]: [OrderStatus.Paid, OrderStatus.Failed, OrderStatus.Expired],
  [OrderStatus.Expired]: [OrderStatus.Paid, OrderStatus.Refunding],
  [OrderStatus.Failed]: [OrderStatus.Paid, OrderStatus.Refunding],
  [OrderStatus.Refunding]: [OrderStatus.Refunded],
  [OrderStatus.Paid]: [],
  [OrderStatus.Rejected]: [],
  [OrderStatus.Refunded]: [],
});

/** Why a purchase was refused by the lock processor: each rule has its own code. */
export enum OrderFailCode {
  KycNotVerified = 'KYC_NOT_VERIFIED',
  NoBankCard = 'NO_BANK_CARD',
  HasPartnerLoan = 'HAS_PARTNER_LOAN',
  PartnerCheckUnavailable = 'PARTNER_CHECK_UNAVAILABLE',
  AmountTooSmall = 'AMOUNT_TOO_SMALL',
  AmountNotStep = 'AMOUNT_NOT_STEP',
  OverLimit = 'OVER_LIMIT',
  LoanNotFound = 'LOAN_NOT_FOUND',
  LoanNotOpen = 'LOAN_NOT_OPEN',
  NotEnoughRoom = 'NOT_ENOUGH_ROOM',
  InsufficientBalance = 'INSUFFICIENT_BALANCE',
  PaymentFailed = 'PAYMENT_FAILED',
  LockExpired = 'LOCK_EXPIRED',
}
