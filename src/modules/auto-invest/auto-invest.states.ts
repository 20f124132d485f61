import { StateMachine } from '../../lib/state-machine';

/** An auto-invest rule is either in the queue (enabled) or out of it (disabled). */
export enum RuleStatus {
  Enabled = 'enabled',
  Disabled = 'disabled',
}

/** enabled ⇄ disabled (PUT with `enabled`); DELETE removes the rule, its history stays. */
export const ruleMachine = new StateMachine<RuleStatus>('auto-invest rule', {
  [RuleStatus.Enabled]: [RuleStatus.Disabled],
  [RuleStatus.Disabled]: [RuleStatus.Enabled],
});

/** A new loan's allocation to the rules: waiting for (or in) its job, or finished. */
export enum AllocationStatus {
  Pending = 'pending',
  Done = 'done',
}

/** pending → done (the share is placed, the queue is exhausted, or the loan is no longer open). */
export const allocationMachine = new StateMachine<AllocationStatus>('auto-invest allocation', {
  [AllocationStatus.Pending]: [AllocationStatus.Done],
  [AllocationStatus.Done]: [],
});

/**
 * Why a matching rule did not buy a loan. The rule keeps its place in the queue. The codes of
 * the purchase rules are the order fail codes of the same rules.
 */
export enum SkipReason {
  /** The investor's KYC is no longer verified. */
  KycNotVerified = 'KYC_NOT_VERIFIED',
  /** No active bank card (the purchase rules ask for one). */
  NoBankCard = 'NO_BANK_CARD',
  /** The partner reports an active loan of the investor (seed #11). */
  HasPartnerLoan = 'HAS_PARTNER_LOAN',
  /** The partner could not be asked: not bought this time, never "no loan". */
  PartnerCheckUnavailable = 'PARTNER_CHECK_UNAVAILABLE',
  /** The wallet holds less than the reserve plus the slice. */
  BelowReserve = 'BELOW_RESERVE',
  /** The slice would take the investor past INVESTOR_LIMIT_AMOUNT. */
  OverLimit = 'OVER_LIMIT',
  /** The slice would take the investor's outstanding principal past the rule's maxTotalInvested. */
  OverRuleCap = 'OVER_MAX_TOTAL_INVESTED',
}

/** What each skip reason means, for the history's `reasonMessage`. */
export const SKIP_MESSAGES: Record<SkipReason, string> = {
  [SkipReason.KycNotVerified]: 'the investor is not KYC verified',
  [SkipReason.NoBankCard]: 'the investor has no bank card bound',
  [SkipReason.HasPartnerLoan]: 'the investor has an active loan at the partner',
  [SkipReason.PartnerCheckUnavailable]: 'the partner could not be asked about active loans',
  [SkipReason.BelowReserve]: 'the wallet holds less than the reserve balance plus the amount',
  [SkipReason.OverLimit]: "the amount would take the investor's outstanding total past the limit",
  [SkipReason.OverRuleCap]:
    "the amount would take the outstanding principal past the rule's maxTotalInvested",
};
