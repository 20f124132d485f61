import { StateMachine } from '../../lib/state-machine';

/** A reported repayment's life cycle. */
export enum RepaymentStatus {
  Reported = 'reported',
  Arrived = 'arrived',
  Cleared = 'cleared',
  Held = 'held',
}

/**
 * reported (partner said so) → held (the gateway says the money did not arrive) | arrived (the gateway confirmed the money in escrow) → cleared
 * (split to holders and revenue) | held (it does not match the schedule: finance decides; a
 * held repayment may be cleared once the cause is fixed).
 */
export const repaymentMachine = new StateMachine<RepaymentStatus>('repayment', {
  [RepaymentStatus.Reported]: [RepaymentStatus.Arrived, RepaymentStatus.Held],
  [RepaymentStatus.Arrived]: [RepaymentStatus.Cleared, RepaymentStatus.Held],
  [RepaymentStatus.Held]: [RepaymentStatus.Cleared],
  [RepaymentStatus.Cleared]: [],
});
