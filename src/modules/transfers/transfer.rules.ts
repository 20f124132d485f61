import type { Config } from '../../../config';
import { Dec, mulFloor } from '../../lib/money';
import type { RepaymentMethod } from '../loans/loan.model';
import { CreditNoteStatus } from './credit-note.states';
import { AssetStatus } from '../assets/asset.states';

/** Days from date `a` to date `b` (YYYY-MM-DD), negative when b is earlier. */
export const daysBetween = (a: string, b: string) =>
  Math.trunc((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);

/** Why an asset (or an amount of it) cannot be put on the market: one code per rule of seed 003. */
export enum TransferRefusal {
  LoanNotRepaying = 'LOAN_NOT_REPAYING',
  AssetNotHeld = 'ASSET_NOT_HELD',
  LoanMatured = 'LOAN_MATURED',
  TradeCountLimit = 'TRADE_COUNT_LIMIT',
  InstallmentTermTooShort = 'INSTALLMENT_TERM_TOO_SHORT',
  BulletTermTooShort = 'BULLET_TERM_TOO_SHORT',
  BeforeInterestStart = 'BEFORE_INTEREST_START',
  AfterNextRepayment = 'AFTER_NEXT_REPAYMENT',
  HoldDaysNotReached = 'HOLD_DAYS_NOT_REACHED',
  TooCloseToRepayment = 'TOO_CLOSE_TO_REPAYMENT',
  AmountOverTradable = 'AMOUNT_OVER_TRADABLE',
  AmountBelowMinimum = 'AMOUNT_BELOW_MINIMUM',
  RemainderBelowMinimum = 'REMAINDER_BELOW_MINIMUM',
  AmountNotIncrement = 'AMOUNT_NOT_INCREMENT',
}

/** What canBuildCredit looks at. Dates are Jakarta calendar dates (YYYY-MM-DD). */
export interface TransferCandidate {
  loan: {
    status: string;
    termUnit: 'day' | 'month';
    term: number;
    repaymentMethod: RepaymentMethod;
    dueDate: string | null;
  };
  asset: {
    status: string;
    principal: bigint;
    maxTradableAmount: bigint;
    tradeCount: number;
    interestStart: string | null;
  };
  /** Due date of the asset's next unpaid period, if any. */
  nextRepaymentDate: string | null;
  /** The transfer day (default today). */
  today: string;
  /** The amount to transfer (default: all that is tradable). */
  amount?: bigint;
}

export type MarketRules = Readonly<Config['market']>;

/** The first rule an amount breaks: minimum, remainder, increment (shared by notes and buyers). */
export function amountRefusal(
  tradable: bigint,
  amount: bigint,
  rules: Pick<MarketRules, 'minOrderAmount' | 'incrOrderAmount'>,
): TransferRefusal | undefined {
  if (amount <= 0n) return TransferRefusal.AmountBelowMinimum;
  if (amount > tradable) return TransferRefusal.AmountOverTradable;
  if (amount < rules.minOrderAmount && amount !== tradable)
    return TransferRefusal.AmountBelowMinimum;
  const rest = tradable - amount;
  if (rest > 0n && rest < rules.minOrderAmount) return TransferRefusal.RemainderBelowMinimum;
  if (amount !== tradable && (amount - rules.minOrderAmount) % rules.incrOrderAmount !== 0n)
    return TransferRefusal.AmountNotIncrement;
  return undefined;
}

/**
 * Seed 003's `$asset->canBuildCredit()`: the first rule the asset (and the amount) breaks, or
 * undefined when it may go on the market. Rules, in order:
 * the loan is repaying (收益中); the asset is held and not repaid; today is before the loan's
 * due date; the asset changed hands fewer than trade_count_limit times; an installment loan's
 * term is more than loan_fenqi_limit months, a bullet loan's more than loan_daoqi_limit days;
 * today is on or after the asset's interest start; today is not after the next repayment date;
 * the asset was held at least holdDays (exactly holdDays is enough); the next repayment is more
 * than `duration` days away (exactly `duration` days before is refused, and so is the repayment
 * day itself); then the amount rules (at most the tradable amount, at least the minimum, the
 * remainder is either nothing or at least the minimum, the minimum plus whole increments unless
 * it is all that is left).
 */
export function canBuildCredit(
  c: TransferCandidate,
  rules: MarketRules,
): TransferRefusal | undefined {
  if (c.loan.status !== 'repaying') return TransferRefusal.LoanNotRepaying;
  if (c.asset.status !== AssetStatus.Holding || c.asset.principal <= 0n)
    return TransferRefusal.AssetNotHeld;
  if (!c.loan.dueDate || c.today >= c.loan.dueDate) return TransferRefusal.LoanMatured;
  if (c.asset.tradeCount >= rules.tradeCountLimit) return TransferRefusal.TradeCountLimit;
  if (c.loan.termUnit === 'month' && c.loan.term <= rules.fenqiLimitMonths)
    return TransferRefusal.InstallmentTermTooShort;
  if (c.loan.termUnit === 'day' && c.loan.term <= rules.daoqiLimitDays)
    return TransferRefusal.BulletTermTooShort;
  if (!c.asset.interestStart || c.today < c.asset.interestStart)
    return TransferRefusal.BeforeInterestStart;
  if (!c.nextRepaymentDate || c.today > c.nextRepaymentDate)
    return TransferRefusal.AfterNextRepayment;
  if (daysBetween(c.asset.interestStart, c.today) < rules.holdDays)
    return TransferRefusal.HoldDaysNotReached;
  if (daysBetween(c.today, c.nextRepaymentDate) <= rules.durationDays)
    return TransferRefusal.TooCloseToRepayment;
  return amountRefusal(c.asset.maxTradableAmount, c.amount ?? c.asset.maxTradableAmount, rules);
}

/** A human sentence for each refusal (the API's error message). */
export const REFUSAL_MESSAGES: Record<TransferRefusal, string> = {
  [TransferRefusal.LoanNotRepaying]: 'the loan is not repaying',
  [TransferRefusal.AssetNotHeld]: 'the asset is not held any more',
  [TransferRefusal.LoanMatured]: 'the loan has reached its due date',
  [TransferRefusal.TradeCountLimit]: 'the asset has changed hands the most times allowed',
  [TransferRefusal.InstallmentTermTooShort]: "the installment loan's term is too short to transfer",
  [TransferRefusal.BulletTermTooShort]: "the bullet loan's term is too short to transfer",
  [TransferRefusal.BeforeInterestStart]: 'interest has not started for this asset yet',
  [TransferRefusal.AfterNextRepayment]: 'the next repayment date has passed',
  [TransferRefusal.HoldDaysNotReached]: 'the asset has not been held long enough',
  [TransferRefusal.TooCloseToRepayment]: 'the next repayment is too close',
  [TransferRefusal.AmountOverTradable]: 'the amount is more than can be traded',
  [TransferRefusal.AmountBelowMinimum]: 'the amount is below the minimum',
  [TransferRefusal.RemainderBelowMinimum]:
    'what would be left is below the minimum: transfer all of it',
  [TransferRefusal.AmountNotIncrement]: 'the amount must be the minimum plus whole increments',
};

/** Whether a note still sells: open (not sold out, cancelled, expired or withdrawn) and before its end time. */
export const isNoteOpen = (n: { status: CreditNoteStatus; endTime: Date }, atMs: number): boolean =>
  n.status === CreditNoteStatus.Open && n.endTime.getTime() > atMs;

/** What a buyer pays for `amount` (principal + accrued interest) at a discount (seed 003): floor(amount × (1 − rate/100)). */
export const discountedPrice = (amount: bigint, discountRate: string): bigint =>
  mulFloor(amount, new Dec(1).minus(new Dec(discountRate).div(100)));
