import { clearRepayment, markOverdueLoans } from '../../src/modules/repayments/repayments.service';
import type { Processor } from './types';

/** Splits one arrived repayment among the holders and revenue (one ledger transaction). */
export const repaymentClearProcessor: Processor<'repayment.clear'> = async ({ repaymentId }) =>
  clearRepayment(repaymentId);

/** Sweeper: loans with an unpaid period past due become overdue. */
export const markOverdueProcessor: Processor<'loans.mark-overdue'> = async () => ({
  overdue: await markOverdueLoans(),
});
