import { queryInstruction } from '../../src/modules/payments/payments.service';
import type { Processor } from './types';

/** Asks the gateway about an instruction that has no result yet. */
export const instructionQueryProcessor: Processor<'instruction.query'> = async (
  { instructionId },
  { rt },
) => queryInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, instructionId);
