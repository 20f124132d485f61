import { checkLedger } from '../../src/modules/ledger/ledger.service';
import type { Processor } from './types';

/** Sweeper: recomputes every balance from the entries; logs an error on any mismatch. */
export const ledgerAuditProcessor: Processor<'ledger.audit'> = async (_payload, { logger }) => {
  const check = await checkLedger();
  const summary = {
    ok: check.ok,
    trialBalance: check.trialBalance.toString(),
    mismatches: check.mismatches.length,
    unbalanced: check.unbalancedTransactions.length,
  };
  if (check.ok) logger.info(summary, 'ledger audit clean');
  else
    logger.error(
      { ...summary, accounts: check.mismatches.slice(0, 20).map((m) => m.code) },
      'LEDGER AUDIT FAILED',
    );
  return summary;
};
