import type { PaymentEffect, PaymentEffects } from '../payments/payment-effects';
import { createInstruction } from '../payments/instructions';
import { creditOrderPaid, creditOrderReversed } from './credit-order-confirmation.service';

/** A reversal of a credit order's custody transfer: retried with a new attempt until it goes through. */
const transferReversed: PaymentEffect = async (i, r, transaction) => {
  const outcome = await creditOrderReversed(i.refId, r.status === 'success');
  if (r.status === 'success') return outcome;
  await createInstruction(
    {
      kind: i.kind,
      purpose: i.purpose,
      refId: i.refId,
      userId: i.userId,
      amount: i.amount,
      bankCardId: null,
      attempt: i.attempt + 1,
    },
    { transaction },
  );
  return `${outcome}; attempt ${i.attempt + 1} started`;
};

/** The secondary market's payment effects: the buyer's custody transfer and its reversal. */
export const transferPaymentEffects = {
  transfer: (i, r, t) => creditOrderPaid(i.refId, r.status === 'success', r.failReason, t),
  transfer_reversal: transferReversed,
} satisfies PaymentEffects;
