import { StateMachine } from '../../lib/state-machine';

/** A gateway payment instruction's life cycle. */
export enum InstructionStatus {
  Created = 'created',
  Submitted = 'submitted',
  Unknown = 'unknown',
  /** A payout the gateway declined: the money stays put until a status query confirms it. */
  Declined = 'declined',
  Succeeded = 'succeeded',
  Failed = 'failed',
  /** The gateway reported another amount: nothing applied, finance decides. */
  Held = 'held',
}

/** What an instruction does at the gateway. */
export type InstructionKind = 'collection' | 'payout' | 'custody_transfer';

/** What an instruction pays for (ref_id points into that table). */
export type InstructionPurpose =
  | 'order'
  | 'recharge'
  | 'withdrawal'
  | 'refund'
  | 'disbursement'
  | 'repayment'
  | 'transfer'
  | 'transfer_reversal'
  | 'repayment_return';

/**
 * Purposes whose failure gives money back to someone who may spend it at once (a wallet, a
 * borrower's retry, a note): a decline of these is confirmed by a status query before it is
 * applied, so that a success that follows a decline (SPEC §6, cards …0036) finds the money
 * still in place.
 */
export const CONFIRM_DECLINE: ReadonlySet<InstructionPurpose> = new Set<InstructionPurpose>([
  'withdrawal',
  'refund',
  'disbursement',
  'transfer_reversal',
  'repayment_return',
]);

/**
 * created → submitted (the gateway took it) | declined/failed (refused outright) |
 * succeeded (a callback may beat the submit's bookkeeping); submitted → succeeded | failed |
 * declined | unknown (no answer yet: the sweeper queries); unknown → the same; declined →
 * succeeded (a success after the decline) | failed (confirmed by a status query); failed →
 * succeeded (a success after the failure: applied as a late success, never parked); any open
 * state → held (another amount reported: finance decides) → succeeded | failed.
 */
export const instructionMachine = new StateMachine<InstructionStatus>('instruction', {
  [InstructionStatus.Created]: [
    InstructionStatus.Submitted,
    InstructionStatus.Succeeded,
    InstructionStatus.Failed,
    InstructionStatus.Declined,
    InstructionStatus.Held,
  ],
  [InstructionStatus.Submitted]: [
    InstructionStatus.Succeeded,
    InstructionStatus.Failed,
    InstructionStatus.Declined,
    InstructionStatus.Unknown,
    InstructionStatus.Held,
  ],
  [InstructionStatus.Unknown]: [
    InstructionStatus.Succeeded,
    InstructionStatus.Failed,
    InstructionStatus.Declined,
    InstructionStatus.Held,
  ],
  [InstructionStatus.Declined]: [
    InstructionStatus.Succeeded,
    InstructionStatus.Failed,
    InstructionStatus.Held,
  ],
  [InstructionStatus.Held]: [InstructionStatus.Succeeded, InstructionStatus.Failed],
  [InstructionStatus.Failed]: [InstructionStatus.Succeeded],
  [InstructionStatus.Succeeded]: [],
});
