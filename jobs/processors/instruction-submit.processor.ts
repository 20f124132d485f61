import { paymentDeps, submitInstruction } from '../../src/modules/payments/payments.service';
import type { Processor } from './types';

/** Hands an instruction to the gateway (outside any transaction). */
export const instructionSubmitProcessor: Processor<'instruction.submit'> = async (
  { instructionId },
  { rt },
) => submitInstruction(paymentDeps(rt), instructionId);
