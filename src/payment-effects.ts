import type { InstructionPurpose } from './modules/payments/instruction.states';
import type { PaymentEffect } from './modules/payments/payment-effects';
import { orderPaymentEffects } from './modules/orders/order.payment-effects';
import { repaymentPaymentEffects } from './modules/repayments/repayment.payment-effects';
import { settlementPaymentEffects } from './modules/settlement/settlement.payment-effects';
import { transferPaymentEffects } from './modules/transfers/transfer.payment-effects';
import { walletPaymentEffects } from './modules/wallet/wallet.payment-effects';

/**
 * What a payment instruction's final result does, by purpose: each area registers its own
 * effects (like the job registry, jobs/processors). A purpose without one does not compile.
 */
export const PAYMENT_EFFECTS: Record<InstructionPurpose, PaymentEffect> = {
  ...orderPaymentEffects,
  ...walletPaymentEffects,
  ...settlementPaymentEffects,
  ...repaymentPaymentEffects,
  ...transferPaymentEffects,
};
