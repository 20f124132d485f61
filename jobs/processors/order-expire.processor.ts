import { expireOrder } from '../../src/modules/orders/orders.service';
import type { Processor } from './types';

/** Releases an unpaid order's share when its lock expires. */
export const orderExpireProcessor: Processor<'order.expire'> = async ({ orderId }) =>
  expireOrder(orderId);
