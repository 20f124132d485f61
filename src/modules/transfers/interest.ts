import { daysBetween } from './transfer.rules';

/** One unpaid period of the seller's schedule (principal basis: the asset's principal). */
export interface PendingPeriod {
  period: number;
  dueDate: string;
  interest: bigint;
}

/**
 * Seed 003's note interest for `amount` of an asset whose principal is `assetPrincipal`:
 * - currentInterest (应付利息, what a buyer pays the seller for the days already run):
 *   days = today + 1 − (the last repayment date, or the interest start); the current period's
 *   interest for the amount × days ÷ the period's days, floored (never more than the period's);
 * - remainingInterest (预期收益): the interest of every unpaid period for the amount, minus
 *   currentInterest.
 * The amount's share of a period is floor(period interest × amount ÷ asset principal).
 */
export function noteInterest(input: {
  amount: bigint;
  assetPrincipal: bigint;
  interestStart: string;
  /** The due date of the last paid period, if any. */
  lastRepaymentDate: string | null;
  pending: PendingPeriod[];
  today: string;
}): { currentInterest: bigint; remainingInterest: bigint } {
  if (input.pending.length === 0 || input.assetPrincipal <= 0n)
    return { currentInterest: 0n, remainingInterest: 0n };
  const share = (interest: bigint) => (interest * input.amount) / input.assetPrincipal;
  const current = input.pending[0];
  const periodStart = input.lastRepaymentDate ?? input.interestStart;
  const periodDays = BigInt(Math.max(1, daysBetween(periodStart, current.dueDate)));
  const days = BigInt(
    Math.min(Math.max(0, daysBetween(periodStart, input.today) + 1), Number(periodDays)),
  );
  const periodInterest = share(current.interest);
  const currentInterest = (days * periodInterest) / periodDays;
  const total = input.pending.reduce((s, p) => s + share(p.interest), 0n);
  return { currentInterest, remainingInterest: total - currentInterest };
}
