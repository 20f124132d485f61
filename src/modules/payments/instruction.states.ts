import { StateMachine } from '../../lib/state-machine';

/** A gateway payment instruction's life cycle. */
export enum InstructionStatus {
  Created = 'created',
  Submitted = 'submitted',
  Succeeded = 'succeeded',
  Failed = 'failed',
  Unknown = 'unknown',
}

/** What an instruction does at the gateway. */
export type InstructionKind = 'collection' | 'payout' | 'custody_transfer';

/** What an instruction pays for (ref_id points into that table). */
export type InstructionPurpose =
  'order' | 'recharge' | 'withdrawal' | 'refund' | 'disbursement' | 'repayment' | 'transfer';

/**
 * created → submitted (the gateway took it) | failed (refused outright) | succeeded/failed (a
 * callback may beat the submit's bookkeeping); submitted → succeeded | failed | unknown (no
 * answer yet: the sweeper queries); unknown → succeeded | failed.
 */
export const instructionMachine = new StateMachine<InstructionStatus>('instruction', {
  [InstructionStatus.Created]: [
    InstructionStatus.Submitted,
    InstructionStatus.Succeeded,
    InstructionStatus.Failed,
  ],
  [InstructionStatus.Submitted]: [
    InstructionStatus.Succeeded,
    InstructionStatus.Failed,
    InstructionStatus.Unknown,
  ],
  [InstructionStatus.Unknown]: [InstructionStatus.Succeeded, InstructionStatus.Failed],
  [InstructionStatus.Succeeded]: [],
  [InstructionStatus.Failed]: [],
});
