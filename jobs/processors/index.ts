import { autoInvestAllocateProcessor } from './auto-invest-allocate.processor';
import { banksSyncProcessor } from './banks-sync.processor';
import { borrowerFetchProcessor } from './borrower-fetch.processor';
import { creditNotesExpireProcessor } from './credit-notes-expire.processor';
import { creditOrderConfirmProcessor, creditOrdersSweepProcessor } from './credit-order.processor';
import { gatewaySandboxCallbackProcessor } from './gateway-sandbox-callback.processor';
import { instructionQueryProcessor } from './instruction-query.processor';
import { instructionSubmitProcessor } from './instruction-submit.processor';
import { instructionsSweepProcessor } from './instructions-sweep.processor';
import { kycVerifyProcessor } from './kyc-verify.processor';
import { ledgerAuditProcessor } from './ledger-audit.processor';
import { loanSettleProcessor } from './loan-settle.processor';
import { orderExpireProcessor } from './order-expire.processor';
import { orderLockProcessor } from './order-lock.processor';
import { outboxPruneProcessor } from './outbox-prune.processor';
import { outboxRelayProcessor } from './outbox-relay.processor';
import {
  partnerNotificationsSweepProcessor,
  partnerNotifyProcessor,
} from './partner-notify.processor';
import { paymentReconcileProcessor } from './payment-reconcile.processor';
import { recoverySweepProcessor } from './recovery-sweep.processor';
import { markOverdueProcessor, repaymentClearProcessor } from './repayment-clear.processor';
import type { ProcessorRegistry } from './types';

/** Every processor by job name (src/queues/queues.ts JOBS lists the same names). */
export const PROCESSORS: ProcessorRegistry = {
  'outbox.relay': outboxRelayProcessor,
  'outbox.prune': outboxPruneProcessor,
  'ledger.audit': ledgerAuditProcessor,
  'kyc.verify': kycVerifyProcessor,
  'borrower.fetch': borrowerFetchProcessor,
  'loan.settle': loanSettleProcessor,
  'order.lock': orderLockProcessor,
  'auto-invest.allocate': autoInvestAllocateProcessor,
  'order.expire': orderExpireProcessor,
  'instruction.submit': instructionSubmitProcessor,
  'instruction.query': instructionQueryProcessor,
  'instructions.sweep': instructionsSweepProcessor,
  'payment.reconcile': paymentReconcileProcessor,
  'gateway-sandbox.callback': gatewaySandboxCallbackProcessor,
  'partner.notify': partnerNotifyProcessor,
  'partner-notifications.sweep': partnerNotificationsSweepProcessor,
  'repayment.clear': repaymentClearProcessor,
  'loans.mark-overdue': markOverdueProcessor,
  'credit-notes.expire': creditNotesExpireProcessor,
  'credit-order.confirm': creditOrderConfirmProcessor,
  'credit-orders.sweep': creditOrdersSweepProcessor,
  'recovery.sweep': recoverySweepProcessor,
  'banks.sync': banksSyncProcessor,
};
