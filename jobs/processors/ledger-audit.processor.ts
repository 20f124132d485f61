import { checkLedger } from '../../src/modules/ledger/ledger.service';
import { investedMismatches } from '../../src/modules/reconciliation/reconciliation.service';
import type { Processor } from './types';

/**
 * Sweeper: recomputes every balance from the entries, and checks every investor's `invested`
 * against what its assets hold; logs an error on any mismatch.
 */
export const ledgerAuditProcessor: Processor<'ledger.audit'> = async (_payload, { logger, rt }) => {
  const check = await checkLedger();
  const invested = await investedMismatches(rt.sequelize);
  const summary = {
    ok: check.ok && invested.length === 0,
    trialBalance: check.trialBalance.toString(),
    mismatches: check.mismatches.length,
    unbalanced: check.unbalancedTransactions.length,
    investedVsAssets: invested.length,
  };
  if (summary.ok) logger.info(summary, 'ledger audit clean');
  else
    logger.error(
      {
        ...summary,
        accounts: check.mismatches.slice(0, 20).map((m) => m.code),
        investors: invested.slice(0, 20).map((m) => m.userId),
      },
      'LEDGER AUDIT FAILED',
    );
  return summary;
};
