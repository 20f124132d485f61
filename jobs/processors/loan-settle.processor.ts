import { closeLoanAtDeadline } from '../../src/modules/loans/loans.service';
import type { Processor } from './types';

/** At the deadline the loan stops selling (open → settling). */
export const loanSettleProcessor: Processor<'loan.settle'> = async ({ loanId }) =>
  closeLoanAtDeadline(loanId);
