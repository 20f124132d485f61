import type { PaymentEffects } from '../payments/payment-effects';
import { repaymentArrived, repaymentReturned } from './repayments.service';

/** The repayments' payment effects: the money in escrow confirmed, and a returned repayment. */
export const repaymentPaymentEffects = {
  repayment: (i, r, t) => repaymentArrived(i.refId, r.status === 'success', r.failReason, t),
  repayment_return: (i, r, t) =>
    repaymentReturned(i.refId, r.status === 'success', r.failReason, t),
} satisfies PaymentEffects;
