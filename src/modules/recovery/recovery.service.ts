import type { Queue } from 'bullmq';
import type { Config } from '../../../config';
import { sweepAllocations } from '../auto-invest/allocation.service';
import { sweepKyc } from '../kyc/kyc.service';
import { sweepLoans } from '../loans/loans.service';
import { sweepOrders } from '../orders/orders.service';
import { sweepCallbacks } from '../payments/payments.service';
import { sweepRepayments } from '../repayments/repayments.service';

/**
 * The recovery.sweep job: every state that waits for a job is found again from PostgreSQL alone
 * and its job started again (deterministic ids: one per row per minute), so that a lost job — a
 * Redis flush, a crashed worker, a delayed job gone — never leaves money or a loan waiting:
 * loans past their deadline or idle while settling, borrowers never fetched, pending orders,
 * locks past their expiry, auto-invest allocations left pending, stored callbacks not applied, repayments arrived and not cleared,
 * KYC submissions without an answer (manual review after KYC_PROVIDER_TIMEOUT_SECONDS).
 * Instructions, credit orders and partner notifications have sweepers of their own.
 */
export async function recoverStuckWork(
  queues: Map<string, Queue>,
  config: Pick<Config, 'recoveryGraceSeconds' | 'kycProviderTimeoutSeconds'>,
) {
  const grace = config.recoveryGraceSeconds;
  return {
    loans: await sweepLoans(queues, grace),
    orders: await sweepOrders(queues, grace),
    allocations: await sweepAllocations(queues, grace),
    callbacks: await sweepCallbacks(queues, grace),
    repayments: await sweepRepayments(queues, grace),
    kyc: await sweepKyc(queues, {
      graceSeconds: grace,
      timeoutSeconds: config.kycProviderTimeoutSeconds,
    }),
  };
}
