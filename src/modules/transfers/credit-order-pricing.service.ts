import { Transaction } from 'sequelize';
import type { Config } from '../../../config';
import { nowMs, today } from '../../lib/clock';
import { AppError, type ErrorCode } from '../../lib/errors';
import { Dec, idrToJson, mulFloor } from '../../lib/money';
import { Asset } from '../assets/asset.model';
import { AssetStatus } from '../assets/asset.states';
import { KycStatus } from '../kyc/kyc.states';
import { accountCode, investorAccount } from '../ledger/ledger.accounts';
import { getBalances } from '../ledger/ledger.service';
import { interestStartOf, Loan } from '../loans/loan.model';
import { LoanStatus } from '../loans/loan.states';
import { outstandingOf } from '../orders/orders.service';
import { RepaymentPlan, RepaymentSchedule } from '../schedules/schedule.model';
import { User } from '../users/user.model';
import { CreditNote } from './credit-note.model';
import { CreditOrderFailCode } from './credit-order.states';
import { noteInterest } from './interest';
import { amountRefusal, discountedPrice, isNoteOpen, REFUSAL_MESSAGES } from './transfer.rules';
import { PeriodStatus } from '../schedules/schedule.states';

/**
 * Pricing a credit order (the first step of the secondary market's purchase): the checks every
 * step repeats (noteRefusal, buyerRefusal) and the order's figures (priceOrder).
 */

export const fail = (code: ErrorCode, message: string, path = 'principal') =>
  new AppError(code, message, [{ path, message }]);

/** What the checks of a credit order read: its note, the asset behind it, the loan. */
export interface NoteContext {
  note: CreditNote;
  asset: Asset;
  loan: Loan;
}

/** A rule an order breaks at one of its steps: its code and a sentence. */
export interface Refusal {
  code: CreditOrderFailCode | ErrorCode;
  reason: string;
}

/**
 * What every step re-checks (SPEC §4: placing, confirming, settling): the note is open (not
 * closed, not cancelled, before its end time), the loan repays, the asset is held and still
 * holds what the note offers unsold, and — once priced — the period whose interest was
 * accrued is still the asset's next unpaid one (no repayment cleared in between).
 */
export function noteRefusal(
  c: NoteContext,
  pricedPeriod: number | null,
  rows: RepaymentSchedule[],
) {
  if (!isNoteOpen(c.note, nowMs()))
    return { code: CreditOrderFailCode.NoteEnded, reason: 'the note has ended' };
  if (c.loan.status !== LoanStatus.Repaying)
    return { code: CreditOrderFailCode.LoanNotRepaying, reason: `the loan is ${c.loan.status}` };
  if (
    c.asset.status !== AssetStatus.Holding ||
    c.asset.principal < c.note.amount - c.note.tradedAmount
  )
    return {
      code: CreditOrderFailCode.AssetNotHeld,
      reason: "the note's asset no longer holds what it offers",
    };
  const next = rows.find((r) => r.status === 'pending');
  if (!next) return { code: CreditOrderFailCode.AssetNotHeld, reason: 'the asset is repaid' };
  if (pricedPeriod !== null && next.period !== pricedPeriod)
    return {
      code: CreditOrderFailCode.PeriodRepaid,
      reason: `period ${pricedPeriod}, whose interest was priced, has been repaid`,
    };
  return undefined;
}

export const pendingRows = (assetId: string, transaction?: Transaction, lock = false) =>
  RepaymentSchedule.findAll({
    where: { assetId, status: 'pending' },
    order: [['period', 'ASC']],
    transaction,
    lock: lock ? Transaction.LOCK.NO_KEY_UPDATE : undefined,
  });

/** The due date of the loan's last repaid period (accrual starts there), if any. */
async function lastRepaymentDate(loanId: string, transaction?: Transaction) {
  const last = await RepaymentPlan.findOne({
    where: { loanId, status: PeriodStatus.Paid },
    order: [['period', 'DESC']],
    transaction,
  });
  return last?.dueDate ?? null;
}

/** The buyer's rules that need no outside party: KYC verified, the investor limit. */
export async function buyerRefusal(
  config: Pick<Config, 'investorLimitAmount'>,
  buyerId: string,
  principal: bigint,
  transaction?: Transaction,
): Promise<Refusal | undefined> {
  const user = await User.findByPk(buyerId, { transaction });
  if (user?.kycStatus !== KycStatus.Verified)
    return { code: 'KYC_REQUIRED', reason: 'verify your identity (KYC) first' };
  if ((await outstandingOf(buyerId, transaction)) + principal > config.investorLimitAmount)
    return {
      code: 'OVER_LIMIT',
      reason: `the investor's outstanding total would exceed ${config.investorLimitAmount}`,
    };
  return undefined;
}

/**
 * Seed 003's order checks (`CreditNote::check` + `validateOrder`) and the primary market's
 * investor rules, each with its own code, and the order's figures: interest = the seller's
 * accrued interest on the principal since the last repayment date or the loan's interest start
 * (计息日), pay amount = floor((principal + interest) × (1 − discountRate/100)), fee =
 * floor(principal × fee_rate), with the rules stored on the note. A pay amount at or below the
 * fee is refused (DISCOUNT_TOO_HIGH).
 */
export async function priceOrder(
  config: Pick<Config, 'investorLimitAmount'>,
  buyerId: string,
  noteId: string,
  principal: bigint,
  day = today(),
) {
  const note = await CreditNote.findByPk(noteId);
  if (!note)
    throw new AppError('NOT_FOUND', 'no such note', [{ path: 'noteId', message: 'no such note' }]);
  const asset = await Asset.findByPk(note.assetId);
  const loan = asset ? await Loan.findByPk(asset.loanId) : null;
  if (!asset || !loan) throw new AppError('NOT_FOUND', 'the note’s asset or loan is gone');
  if (String(note.userId) === String(buyerId))
    throw fail('OWN_NOTE', 'you cannot buy your own note', 'noteId');
  const rows = await pendingRows(asset.id);
  const refusal = noteRefusal({ note, asset, loan }, null, rows);
  if (refusal) throw fail(refusal.code as ErrorCode, refusal.reason, 'noteId');
  const rules = {
    minOrderAmount: BigInt(note.config.min_order_amount),
    incrOrderAmount: BigInt(note.config.incr_order_amount),
  };
  const amountWrong = amountRefusal(
    note.amount - note.tradedAmount - note.reservedAmount,
    principal,
    rules,
  );
  if (amountWrong) throw fail(amountWrong as ErrorCode, REFUSAL_MESSAGES[amountWrong]);
  const { currentInterest } = noteInterest({
    amount: principal,
    assetPrincipal: asset.principal,
    interestStart: interestStartOf(loan) ?? day,
    lastRepaymentDate: await lastRepaymentDate(loan.id),
    pending: rows.map((r) => ({ period: r.period, dueDate: r.dueDate, interest: r.interest })),
    today: day,
  });
  const payAmount = discountedPrice(principal + currentInterest, note.discountRate);
  const fee = mulFloor(principal, new Dec(String(note.config.fee_rate)));
  if (payAmount <= fee)
    throw fail(
      'DISCOUNT_TOO_HIGH',
      `at this discount the buyer would pay ${payAmount}, not more than the fee of ${fee}`,
      'noteId',
    );
  const broken = await buyerRefusal(config, buyerId, principal);
  if (broken) throw fail(broken.code as ErrorCode, broken.reason, 'noteId');
  const available = (await getBalances([investorAccount(buyerId, 'available')])).get(
    accountCode(investorAccount(buyerId, 'available')),
  )!;
  if (available < payAmount)
    throw fail('INSUFFICIENT_BALANCE', 'the wallet balance is lower than the amount to pay');
  return {
    note,
    asset,
    loan,
    interest: currentInterest,
    payAmount,
    fee,
    today: day,
    period: rows[0].period,
  };
}

/** POST /api/v1/credit-orders/calc. */
export async function calcCreditOrder(
  config: Pick<Config, 'investorLimitAmount'>,
  buyerId: string,
  input: { noteId: string; principal: number },
) {
  const p = await priceOrder(config, buyerId, input.noteId, BigInt(input.principal));
  return {
    noteId: String(p.note.id),
    principal: input.principal,
    interest: idrToJson(p.interest),
    payAmount: idrToJson(p.payAmount),
    fee: idrToJson(p.fee),
  };
}
