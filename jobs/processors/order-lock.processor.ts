import { lockOrder } from '../../src/modules/orders/orders.service';
import { paymentDeps, submitInstructions } from '../../src/modules/payments/payments.service';
import type { Processor } from './types';

/**
 * Applies the purchase rules, reserves the share, starts the payment: the batch's collection
 * instructions go to the gateway right after its commit.
 */
export const orderLockProcessor: Processor<'order.lock'> = async ({ orderId }, { rt }) =>
  lockOrder(
    {
      cipher: rt.cipher,
      partner: rt.ports.partner,
      config: rt.config,
      submit: (ids) =>
        submitInstructions(paymentDeps(rt), ids, {
          concurrency: rt.config.gateway.mode === 'http' ? 8 : 1,
        }),
    },
    orderId,
  );
