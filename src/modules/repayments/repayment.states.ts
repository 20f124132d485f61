import { StateMachine } from '../../lib/state-machine';

/** A reported repayment's life cycle. */
export enum RepaymentStatus {
  Reported = 'reported',
  Arrived = 'arrived',
  Failed = 'failed',
  Cleared = 'cleared',
  Held = 'held',
  Returning = 'returning',
  Returned = 'returned',
}

/** Why a repayment that arrived is held instead of cleared (finance decides, or it waits). */
export enum RepaymentHoldCode {
  /** An earlier period is not repaid yet: cleared by itself once it is. */
  EarlierPeriodUnpaid = 'EARLIER_PERIOD_UNPAID',
  LoanNotRepaying = 'LOAN_NOT_REPAYING',
  NoPendingPeriod = 'NO_PENDING_PERIOD',
  PrincipalMismatch = 'PRINCIPAL_MISMATCH',
  InterestShort = 'INTEREST_SHORT',
  PayoffMismatch = 'PAYOFF_MISMATCH',
}

/**
 * reported (the partner said so) → arrived (the gateway confirmed the money in escrow) | failed
 * (the transfer failed; a late success still brings it to arrived); arrived → cleared (split to
 * holders and revenue) | held (it does not match the plan); held → cleared (an earlier period
 * was repaid, or finance cleared it after a correction) | returning (finance sends the money
 * back to the partner) → returned, or held again when that transfer fails.
 */
export const repaymentMachine = new StateMachine<RepaymentStatus>('repayment', {
  [RepaymentStatus.Reported]: [RepaymentStatus.Arrived, RepaymentStatus.Failed],
  [RepaymentStatus.Failed]: [RepaymentStatus.Arrived],
  [RepaymentStatus.Arrived]: [RepaymentStatus.Cleared, RepaymentStatus.Held],
  [RepaymentStatus.Held]: [
    RepaymentStatus.Cleared,
    RepaymentStatus.Held,
    RepaymentStatus.Returning,
  ],
  [RepaymentStatus.Returning]: [RepaymentStatus.Returned, RepaymentStatus.Held],
  [RepaymentStatus.Cleared]: [],
  [RepaymentStatus.Returned]: [],
});
