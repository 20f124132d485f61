import { paymentDeps, queryInstruction } from '../../src/modules/payments/payments.service';
import type { Processor } from './types';

/** Asks the gateway about an instruction that has no final result yet. */
export const instructionQueryProcessor: Processor<'instruction.query'> = async (
  { instructionId },
  { rt },
) => queryInstruction(paymentDeps(rt), instructionId);
