import { settleLoan } from '../../src/modules/settlement/settlement.service';
import type { Processor } from './types';

/** Settlement at the deadline or when bought out: wait for locks, fail / top up / fill, disburse. */
export const loanSettleProcessor: Processor<'loan.settle'> = async ({ loanId }, { rt }) =>
  settleLoan({ config: rt.config }, loanId);
