import { kycVerifyProcessor } from './kyc-verify.processor';
import { ledgerAuditProcessor } from './ledger-audit.processor';
import { outboxRelayProcessor } from './outbox-relay.processor';
import type { ProcessorRegistry } from './types';

/** Every processor by job name (src/queues/queues.ts JOBS lists the same names). */
export const PROCESSORS: ProcessorRegistry = {
  'outbox.relay': outboxRelayProcessor,
  'ledger.audit': ledgerAuditProcessor,
  'kyc.verify': kycVerifyProcessor,
};
