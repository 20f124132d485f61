import { lockOrder } from '../../src/modules/orders/orders.service';
import type { Processor } from './types';

/** Applies the purchase rules, reserves the share, starts the payment. */
export const orderLockProcessor: Processor<'order.lock'> = async ({ orderId }, { rt }) =>
  lockOrder({ cipher: rt.cipher, partner: rt.ports.partner, config: rt.config }, orderId);
