import { applyCallback } from '../../src/modules/payments/payments.service';
import type { Processor } from './types';

/** Applies one stored gateway callback, exactly once. */
export const paymentReconcileProcessor: Processor<'payment.reconcile'> = async (
  { callbackId },
  { rt },
) => applyCallback(callbackId, { declineConfirmSeconds: rt.config.gateway.declineConfirmSeconds });
