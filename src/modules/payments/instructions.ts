import type { TxOptions } from '../../lib/db';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import {
  InstructionStatus,
  type InstructionKind,
  type InstructionPurpose,
} from './instruction.states';
import { PaymentInstruction } from './payment.model';

/**
 * Records a gateway instruction in the caller's transaction and hands it to the submit job
 * through the outbox: the instruction exists if and only if the state change that needs it
 * committed. One instruction per (purpose, ref, kind).
 */
export async function createInstruction(
  input: {
    kind: InstructionKind;
    purpose: InstructionPurpose;
    refId: string;
    userId: string | null;
    amount: bigint;
    bankCardId: string | null;
    attempt?: number;
  },
  { transaction }: TxOptions,
): Promise<PaymentInstruction> {
  const instruction = await PaymentInstruction.create(
    { ...input, status: InstructionStatus.Created },
    { transaction },
  );
  await enqueueAfterCommit(
    'instruction.submit',
    { instructionId: String(instruction.id) },
    { transaction },
  );
  return instruction;
}
