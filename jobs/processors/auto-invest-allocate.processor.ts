import { allocateLoan } from '../../src/modules/auto-invest/allocation.service';
import type { Processor } from './types';

/** Offers a new loan to the auto-invest rules (wallet orders: no gateway instruction to submit). */
export const autoInvestAllocateProcessor: Processor<'auto-invest.allocate'> = async (
  { loanId },
  { rt },
) => allocateLoan({ cipher: rt.cipher, partner: rt.ports.partner, config: rt.config }, loanId);
