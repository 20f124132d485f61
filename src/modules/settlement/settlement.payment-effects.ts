import type { PaymentEffects } from '../payments/payment-effects';
import { disbursementResolved } from './settlement.service';

/** The settlement's payment effect: the disbursement payout to the borrower (by attempt). */
export const settlementPaymentEffects = {
  disbursement: (i, r, t) =>
    disbursementResolved(i.refId, i.attempt, r.status === 'success', r.failReason, t),
} satisfies PaymentEffects;
