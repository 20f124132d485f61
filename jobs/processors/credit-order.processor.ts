import {
  confirmCreditOrder,
  sweepCreditOrders,
} from '../../src/modules/transfers/credit-order-confirmation.service';
import type { Processor } from './types';

/** Runs the next step of one credit order (restartable). */
export const creditOrderConfirmProcessor: Processor<'credit-order.confirm'> = async (
  { orderId },
  { rt },
) =>
  confirmCreditOrder({ partner: rt.ports.partner, cipher: rt.cipher, config: rt.config }, orderId);

/** Sweeper: initial orders without a job, paid orders whose database step did not run. */
export const creditOrdersSweepProcessor: Processor<'credit-orders.sweep'> = async (_p, { rt }) => ({
  enqueued: await sweepCreditOrders(rt.queues, rt.config.recoveryGraceSeconds),
});
