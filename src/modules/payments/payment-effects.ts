import type { Transaction } from 'sequelize';
import type { InstructionPurpose } from './instruction.states';
import type { PaymentInstruction } from './payment.model';
// Every purpose's effect, registered per area like the job processors (a purpose without one
// does not compile); the areas import only this file's types.
import { PAYMENT_EFFECTS } from '../../payment-effects';

/** What the gateway finally said of an instruction. */
export interface InstructionResult {
  status: 'success' | 'failed';
  failReason?: string;
}

/**
 * What an instruction's final result does to what it paid for, in the caller's transaction (the
 * instruction row is locked and was just resolved, so it runs once per result). `late` marks a
 * success that follows a failure already applied: the money moved after all, so it is applied
 * now — re-locked, credited, refunded or taken back — never left aside.
 */
export type PaymentEffect = (
  i: PaymentInstruction,
  r: InstructionResult,
  transaction: Transaction,
  late: boolean,
) => Promise<string>;

/** Some purposes' effects, as an area declares them (its `<area>.payment-effects.ts`). */
export type PaymentEffects = Partial<Record<InstructionPurpose, PaymentEffect>>;

/** Applies an instruction's final result to what it paid for, in the caller's transaction. */
export function applyInstructionEffect(
  i: PaymentInstruction,
  r: InstructionResult,
  transaction: Transaction,
  late = false,
): Promise<string> {
  return PAYMENT_EFFECTS[i.purpose](i, r, transaction, late);
}
