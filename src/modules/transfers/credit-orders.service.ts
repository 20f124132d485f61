import { QueryTypes, Transaction, UniqueConstraintError } from 'sequelize';
import type { Queue } from 'bullmq';
import type { Config } from '../../../config';
import type { PartnerPort } from '../../adapters/partner';
import { now, nowMs, today } from '../../lib/clock';
import type { PiiCipher } from '../../lib/crypto';
import { sha256Hex } from '../../lib/crypto';
import { withTransaction } from '../../lib/db';
import { AppError, type ErrorCode } from '../../lib/errors';
import { Dec, idrToJson, mulFloor } from '../../lib/money';
import { enqueueRecovery } from '../../queues/queues';
import { KycStatus } from '../kyc/kyc.states';
import {
  AccountType,
  accountCode,
  investorAccount,
  platformAccount,
} from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import {
  getBalances,
  postTransaction,
  tryPostTransaction,
  type PostingEntry,
} from '../ledger/ledger.service';
import { interestStartOf, Loan } from '../loans/loan.model';
import { LoanStatus } from '../loans/loan.states';
import { Asset } from '../assets/asset.model';
import { hasPartnerLoan, outstandingOf } from '../orders/orders.service';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { createInstruction } from '../payments/instructions';
import { RepaymentPlan, RepaymentSchedule } from '../schedules/schedule.model';
import { addDays, holderInterest, splitPrincipal } from '../schedules/schedule';
import { User } from '../users/user.model';
import { CreditNote } from './credit-note.model';
import { CreditOrder } from './credit-order.model';
import {
  BuyerPaymentStatus,
  CreditOrderFailCode,
  CreditOrderStatus,
  SellerRefundStatus,
  creditOrderMachine,
} from './credit-order.states';
import { noteInterest } from './interest';
import { amountRefusal, discountedPrice, isNoteOpen, REFUSAL_MESSAGES } from './transfer.rules';

/** The SPEC's credit order out. */
export const creditOrderView = (o: CreditOrder) => ({
  id: String(o.id),
  noteId: String(o.noteId),
  principal: idrToJson(o.principal),
  interest: idrToJson(o.interest),
  payAmount: idrToJson(o.payAmount),
  fee: idrToJson(o.fee),
  status: o.status,
  buyerPaymentStatus: o.buyerPaymentStatus,
  sellerRefundStatus: o.sellerRefundStatus,
  failCode: o.failCode,
  failReason: o.failReason,
});

const fail = (code: ErrorCode, message: string, path = 'principal') =>
  new AppError(code, message, [{ path, message }]);

/** What the checks of a credit order read: its note, the asset behind it, the loan. */
interface NoteContext {
  note: CreditNote;
  asset: Asset;
  loan: Loan;
}

/** A rule an order breaks at one of its steps: its code and a sentence. */
interface Refusal {
  code: CreditOrderFailCode | ErrorCode;
  reason: string;
}

/**
 * What every step re-checks (SPEC §4: placing, confirming, settling): the note is open (not
 * closed, not cancelled, before its end time), the loan repays, the asset is held and still
 * holds what the note offers unsold, and — once priced — the period whose interest was
 * accrued is still the asset's next unpaid one (no repayment cleared in between).
 */
function noteRefusal(c: NoteContext, pricedPeriod: number | null, rows: RepaymentSchedule[]) {
  if (!isNoteOpen(c.note, nowMs()))
    return { code: CreditOrderFailCode.NoteEnded, reason: 'the note has ended' };
  if (c.loan.status !== LoanStatus.Repaying)
    return { code: CreditOrderFailCode.LoanNotRepaying, reason: `the loan is ${c.loan.status}` };
  if (c.asset.status !== 'holding' || c.asset.principal < c.note.amount - c.note.tradedAmount)
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

const pendingRows = (assetId: string, transaction?: Transaction, lock = false) =>
  RepaymentSchedule.findAll({
    where: { assetId, status: 'pending' },
    order: [['period', 'ASC']],
    transaction,
    lock: lock ? Transaction.LOCK.NO_KEY_UPDATE : undefined,
  });

/** The due date of the loan's last repaid period (accrual starts there), if any. */
async function lastRepaymentDate(loanId: string, transaction?: Transaction) {
  const last = await RepaymentPlan.findOne({
    where: { loanId, status: 'paid' },
    order: [['period', 'DESC']],
    transaction,
  });
  return last?.dueDate ?? null;
}

/** The buyer's rules that need no outside party: KYC verified, the investor limit. */
async function buyerRefusal(
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

/** POST /api/v1/credit-orders: checks, then an initial order handed to the confirm job (outbox). */
export async function placeCreditOrder(
  config: Pick<Config, 'investorLimitAmount'>,
  buyerId: string,
  input: { noteId: string; principal: number },
  idempotencyKey?: string,
): Promise<CreditOrder> {
  const requestHash = sha256Hex(JSON.stringify([input.noteId, input.principal]));
  const replay = async () => {
    const prior = await CreditOrder.findOne({ where: { buyerId, idempotencyKey } });
    if (prior && prior.requestHash !== requestHash)
      throw new AppError('IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was used for another order');
    return prior ?? undefined;
  };
  if (idempotencyKey) {
    const prior = await replay();
    if (prior) return prior;
  }
  const p = await priceOrder(config, buyerId, input.noteId, BigInt(input.principal));
  try {
    return await withTransaction(CreditOrder.sequelize!, async (transaction) => {
      const order = await CreditOrder.create(
        {
          noteId: p.note.id,
          sellerAssetId: p.asset.id,
          buyerId,
          sellerId: p.note.userId,
          loanId: p.loan.id,
          principal: BigInt(input.principal),
          interest: p.interest,
          payAmount: p.payAmount,
          fee: p.fee,
          orderDate: p.today,
          period: p.period,
          status: CreditOrderStatus.Initial,
          idempotencyKey: idempotencyKey ?? null,
          requestHash,
        },
        { transaction },
      );
      await enqueueAfterCommit(
        'credit-order.confirm',
        { orderId: String(order.id) },
        { transaction },
      );
      return order;
    });
  } catch (err) {
    if (err instanceof UniqueConstraintError && idempotencyKey) return (await replay())!;
    throw err;
  }
}

async function moveOrder(
  o: CreditOrder,
  to: CreditOrderStatus,
  fields: Partial<CreditOrder>,
  transaction: Transaction,
) {
  creditOrderMachine.assert(o.status, to);
  await o.update({ ...fields, status: to }, { transaction });
}

const lockOrder = async (id: string, transaction: Transaction) =>
  (await CreditOrder.findByPk(id, { transaction, lock: Transaction.LOCK.NO_KEY_UPDATE }))!;

/** The part of a pay amount that is accrued interest (the seller's income, the buyer's cost). */
const interestPart = (o: CreditOrder) => (o.interest < o.payAmount ? o.interest : o.payAmount);

/** The buyer's wallet entries for moving `sign` × payAmount out of `available` (memos split). */
const buyerWallet = (o: CreditOrder, sign: bigint): PostingEntry[] => [
  {
    account: investorAccount(o.buyerId, 'available'),
    amount: sign * interestPart(o),
    memo: 'interest',
  },
  {
    account: investorAccount(o.buyerId, 'available'),
    amount: sign * (o.payAmount - interestPart(o)),
    memo: 'principal',
  },
  { account: investorAccount(o.buyerId, 'locked'), amount: -sign * o.payAmount },
];

/** The order's locks: loan (shared), the seller's asset, the note — the one fixed order. */
async function lockNoteContext(o: CreditOrder, transaction: Transaction): Promise<NoteContext> {
  const loan = (await Loan.findByPk(o.loanId, { transaction, lock: Transaction.LOCK.SHARE }))!;
  const asset = (await Asset.findByPk(o.sellerAssetId, {
    transaction,
    lock: Transaction.LOCK.NO_KEY_UPDATE,
  }))!;
  const note = (await CreditNote.findByPk(o.noteId, {
    transaction,
    lock: Transaction.LOCK.NO_KEY_UPDATE,
  }))!;
  return { loan, asset, note };
}

/**
 * Ends an order as failed with its code, once, whatever step it reached (the caller holds the
 * order): the note's reservation is given back, the buyer's reserved money returns to the wallet
 * (ledger first: it is the buyer's again at once), and when the buyer's money had already moved
 * at the custodian a reverse custody transfer puts it back there.
 */
async function failCreditOrder(
  o: CreditOrder,
  refusal: Refusal,
  transaction: Transaction,
  fields: Partial<CreditOrder> = {},
): Promise<string> {
  if (o.reserved) {
    await CreditNote.sequelize!.query(
      `UPDATE credit_notes SET reserved_amount = reserved_amount - $2, updated_at = $3 WHERE id = $1`,
      { bind: [o.noteId, o.principal.toString(), now()], transaction },
    );
  }
  if (o.status !== CreditOrderStatus.Initial)
    await postTransaction(
      {
        kind: LedgerKind.TransferBuy,
        idempotencyKey: `credit-order:${o.id}:release`,
        metadata: { creditOrderId: String(o.id), reason: refusal.code },
        entries: buyerWallet(o, 1n),
      },
      { transaction },
    );
  const paid = (fields.buyerPaymentStatus ?? o.buyerPaymentStatus) === BuyerPaymentStatus.Paid;
  if (paid) await startReversal(o, transaction);
  await moveOrder(
    o,
    CreditOrderStatus.Failed,
    { ...fields, reserved: false, failCode: refusal.code, failReason: refusal.reason },
    transaction,
  );
  return `failed: ${refusal.code}${paid ? '; buyer payment reversed' : ''}`;
}

/** A custody transfer that gives the buyer's money back at the custodian (no ledger effect). */
async function startReversal(o: CreditOrder, transaction: Transaction) {
  await createInstruction(
    {
      kind: 'custody_transfer',
      purpose: 'transfer_reversal',
      refId: String(o.id),
      userId: o.buyerId,
      amount: o.payAmount,
      bankCardId: null,
    },
    { transaction },
  );
}

/** What the confirm job needs besides the order: the partner (HAS_PARTNER_LOAN) and the limits. */
export interface ConfirmDeps {
  partner: PartnerPort;
  cipher: PiiCipher;
  config: Pick<Config, 'investorLimitAmount'>;
}

/**
 * The credit-order.confirm job: seed 003's steps as a restartable state machine, each step in
 * its own transaction and each checking where the order stands first:
 * 1. initial: the buyer's rules (KYC, no active loan at the partner — asked outside any
 *    transaction —, the investor limit), the note, the asset, the loan and the priced period
 *    re-checked; the principal reserved on the note (never more than it offers, so the last
 *    slice is never paid for twice); the buyer's money reserved (available → locked); a custody
 *    transfer instruction made (→ processing). Any refusal fails the order with its code.
 * 2. paid (buyerPaymentStatus 1), the seller not yet paid: the database step — see
 *    settleCreditOrder.
 * Anything else waits for the payment's answer (creditOrderPaid / markCreditOrderAbnormal).
 */
export async function confirmCreditOrder(deps: ConfirmDeps, orderId: string): Promise<string> {
  const peek = await CreditOrder.findByPk(orderId);
  if (!peek)
    throw new AppError('NOT_FOUND', `no credit order ${orderId}`, [], { retryable: false });
  if (peek.status === CreditOrderStatus.Initial) {
    const partnerLoan = (await hasPartnerLoan(deps, peek.buyerId))
      ? {
          code: CreditOrderFailCode.HasPartnerLoan,
          reason: 'the investor has an active loan at the partner',
        }
      : undefined;
    const first = await withTransaction(CreditOrder.sequelize!, async (transaction) => {
      await User.findByPk(peek.buyerId, { transaction, lock: Transaction.LOCK.NO_KEY_UPDATE });
      const o = await lockOrder(orderId, transaction);
      if (o.status !== CreditOrderStatus.Initial) return undefined;
      const c = await lockNoteContext(o, transaction);
      const refusal =
        partnerLoan ??
        noteRefusal(c, o.period, await pendingRows(o.sellerAssetId, transaction)) ??
        (await buyerRefusal(deps.config, o.buyerId, 0n, transaction));
      if (refusal) return failCreditOrder(o, refusal, transaction);
      if (c.note.tradedAmount + c.note.reservedAmount + o.principal > c.note.amount)
        return failCreditOrder(
          o,
          { code: CreditOrderFailCode.Overbuy, reason: 'the note has been sold out' },
          transaction,
        );
      const reserved = await tryPostTransaction(
        {
          kind: LedgerKind.TransferBuy,
          idempotencyKey: `credit-order:${o.id}:reserve`,
          metadata: { creditOrderId: String(o.id) },
          entries: buyerWallet(o, -1n),
        },
        { transaction },
      );
      if (!reserved)
        return failCreditOrder(
          o,
          {
            code: 'INSUFFICIENT_BALANCE',
            reason: 'the wallet balance is lower than the amount to pay',
          },
          transaction,
        );
      await c.note.update({ reservedAmount: c.note.reservedAmount + o.principal }, { transaction });
      await createInstruction(
        {
          kind: 'custody_transfer',
          purpose: 'transfer',
          refId: String(o.id),
          userId: o.buyerId,
          amount: o.payAmount,
          bankCardId: null,
        },
        { transaction },
      );
      await moveOrder(o, CreditOrderStatus.Processing, { reserved: true }, transaction);
      return 'buyer payment started';
    });
    if (first) return first;
  }
  return withTransaction(CreditOrder.sequelize!, async (transaction) => {
    const o = await lockOrder(orderId, transaction);
    if (o.status === CreditOrderStatus.Success || o.status === CreditOrderStatus.Failed)
      return `already ${o.status}`;
    if (
      o.buyerPaymentStatus !== BuyerPaymentStatus.Paid ||
      o.sellerRefundStatus !== SellerRefundStatus.None
    )
      return 'waiting for the buyer payment';
    return settleCreditOrder(o, transaction);
  });
}

/**
 * The database step, ONE transaction (order → loan → seller asset → note, then the rows): the
 * note, the asset, the loan and the priced period re-checked (a note cancelled, expired or
 * closed, a loan repaid, a repayment cleared while the buyer paid: the order fails and the
 * buyer's money is released and reversed); the seller's asset reduced (invalidated —
 * transferred — when sold out); the buyer's asset created (tradeCount + 1, interest from the
 * day after the order); the note's reservation turned into traded (closed when sold out); the
 * ledger: transfer_buy (the buyer's reserved money), transfer_sell (the seller is paid — the
 * accrued interest as its income —, the principal changes hands), transfer_fee; the schedule
 * split; the seller paid (status 1) and the order a success.
 */
async function settleCreditOrder(o: CreditOrder, transaction: Transaction): Promise<string> {
  const c = await lockNoteContext(o, transaction);
  const rows = await pendingRows(o.sellerAssetId, transaction, true);
  const refusal =
    noteRefusal(c, o.period, rows) ??
    (c.asset.principal < o.principal
      ? { code: CreditOrderFailCode.AssetNotHeld, reason: 'the asset holds less than the order' }
      : undefined);
  if (refusal || !o.reserved)
    return failCreditOrder(
      o,
      refusal ?? { code: CreditOrderFailCode.Overbuy, reason: 'the order holds no reservation' },
      transaction,
    );
  const { note, asset: seller, loan } = c;
  const before = seller.principal;
  const fullSale = before === o.principal;
  const buyer = await Asset.create(
    {
      userId: o.buyerId,
      loanId: o.loanId,
      orderId: null,
      principal: o.principal,
      maxTradableAmount: o.principal,
      tradeCount: seller.tradeCount + 1,
      status: 'holding',
      interestStart: addDays(o.orderDate, 1),
      parentAssetId: seller.id,
      noteId: note.id,
    },
    { transaction },
  );
  await seller.update(
    {
      principal: before - o.principal,
      ...(fullSale ? { status: 'transferred' as const, maxTradableAmount: 0n } : {}),
    },
    { transaction },
  );
  const traded = note.tradedAmount + o.principal;
  await note.update(
    {
      tradedAmount: traded,
      reservedAmount: note.reservedAmount - o.principal,
      ...(traded === note.amount ? { isClosed: true, closedAt: now() } : {}),
    },
    { transaction },
  );
  await splitSchedule(o, loan, rows, buyer.id, fullSale, transaction);

  const clearing = platformAccount(AccountType.GatewayClearing);
  const post = (kind: LedgerKind, key: string, entries: PostingEntry[]) =>
    postTransaction(
      {
        kind,
        idempotencyKey: `credit-order:${o.id}:${key}`,
        metadata: { creditOrderId: String(o.id), noteId: String(o.noteId) },
        entries,
      },
      { transaction },
    );
  await post(LedgerKind.TransferBuy, 'buy', [
    { account: investorAccount(o.buyerId, 'locked'), amount: -o.payAmount },
    { account: clearing, amount: o.payAmount },
  ]);
  await post(LedgerKind.TransferSell, 'sell', [
    { account: clearing, amount: -o.payAmount },
    {
      account: investorAccount(o.sellerId, 'available'),
      amount: o.payAmount - interestPart(o),
      memo: 'principal',
    },
    {
      account: investorAccount(o.sellerId, 'available'),
      amount: interestPart(o),
      memo: 'interest',
    },
    { account: investorAccount(o.sellerId, 'invested'), amount: -o.principal, memo: 'principal' },
    { account: investorAccount(o.buyerId, 'invested'), amount: o.principal, memo: 'principal' },
  ]);
  if (o.fee > 0n) {
    await post(LedgerKind.TransferFee, 'fee', [
      { account: investorAccount(o.sellerId, 'available'), amount: -o.fee, memo: 'fee' },
      { account: platformAccount(AccountType.RevenueTransferFee), amount: o.fee, memo: 'fee' },
    ]);
  }
  await moveOrder(
    o,
    CreditOrderStatus.Success,
    { buyerAssetId: buyer.id, sellerRefundStatus: SellerRefundStatus.Paid, reserved: false },
    transaction,
  );
  return 'success';
}

/**
 * The schedule split (seed 003, SPEC §3): the seller's unpaid rows (the caller holds them). A
 * full sale moves them to the buyer. Otherwise the buyer's principal is taken out of the
 * seller's, period by period, with `splitPrincipal` (the buyer's rows sum exactly to what it
 * bought, the seller keeps the rest, every period's total unchanged, so the holders still sum to
 * the plan), and both sides' interest is reckoned again at yearRateFin on what each now holds.
 */
async function splitSchedule(
  o: CreditOrder,
  loan: Loan,
  rows: RepaymentSchedule[],
  buyerAssetId: string,
  fullSale: boolean,
  transaction: Transaction,
) {
  if (fullSale) {
    await RepaymentSchedule.update(
      { assetId: buyerAssetId, userId: o.buyerId },
      { where: { id: rows.map((r) => r.id) }, transaction },
    );
    return;
  }
  const rate = { yearRate: loan.yearRateFin, method: loan.repaymentMethod, term: loan.term };
  const bought = splitPrincipal(
    rows.map((r) => r.principal),
    o.principal,
  );
  const kept = rows.map((r, i) => r.principal - bought[i]);
  const boughtInterest = holderInterest(bought, rate);
  const keptInterest = holderInterest(kept, rate);
  await RepaymentSchedule.bulkCreate(
    rows.map((r, i) => ({
      assetId: buyerAssetId,
      loanId: r.loanId,
      userId: o.buyerId,
      period: r.period,
      dueDate: r.dueDate,
      principal: bought[i],
      interest: boughtInterest[i],
      status: 'pending' as const,
    })),
    { transaction },
  );
  for (const [i, r] of rows.entries())
    await r.update({ principal: kept[i], interest: keptInterest[i] }, { transaction });
}

/**
 * The buyer's custody transfer resolved (an instruction effect, in its transaction). Success:
 * paid (the confirm job does the database step); for an order that has already failed — a
 * decline the gateway contradicts — the money is reversed, never kept. Failure: the order fails
 * and the buyer's money returns to the wallet.
 */
export async function creditOrderPaid(
  orderId: string,
  ok: boolean,
  failReason: string | undefined,
  transaction: Transaction,
): Promise<string> {
  const o = await lockOrder(orderId, transaction);
  if (o.buyerPaymentStatus === BuyerPaymentStatus.Paid) return `credit order already ${o.status}`;
  if (ok && o.status === CreditOrderStatus.Failed) {
    await startReversal(o, transaction);
    await o.update({ buyerPaymentStatus: BuyerPaymentStatus.Paid }, { transaction });
    return 'credit order already failed: buyer payment reversed';
  }
  if (!ok) {
    if (o.status === CreditOrderStatus.Failed) return 'credit order already failed';
    return failCreditOrder(
      o,
      { code: CreditOrderFailCode.PaymentFailed, reason: failReason ?? 'the buyer payment failed' },
      transaction,
      { buyerPaymentStatus: BuyerPaymentStatus.Failed },
    );
  }
  if (o.status === CreditOrderStatus.Abnormal)
    await moveOrder(o, CreditOrderStatus.Processing, {}, transaction);
  await o.update({ buyerPaymentStatus: BuyerPaymentStatus.Paid }, { transaction });
  await enqueueAfterCommit('credit-order.confirm', { orderId: String(o.id) }, { transaction });
  return 'credit order paid';
}

/** A reversal of a buyer payment resolved: the custodian's books only (the ledger released it already). */
export async function creditOrderReversed(orderId: string, ok: boolean): Promise<string> {
  return ok
    ? `credit order ${orderId}: buyer payment reversed at the custodian`
    : `credit order ${orderId}: reversal failed`;
}

/** The buyer payment's answer is unknown: the order is abnormal until the status query settles it. */
export async function markCreditOrderAbnormal(orderId: string): Promise<void> {
  await CreditOrder.update(
    { status: CreditOrderStatus.Abnormal, buyerPaymentStatus: BuyerPaymentStatus.Unknown },
    {
      where: {
        id: orderId,
        status: CreditOrderStatus.Processing,
        buyerPaymentStatus: BuyerPaymentStatus.None,
      },
    },
  );
}

/**
 * Sweeper: confirm jobs for initial orders whose job is lost, and for paid orders whose database
 * step did not run (a crash after the payment). Writes nothing: enqueues directly, deterministic ids.
 */
export async function sweepCreditOrders(
  queues: Map<string, Queue>,
  graceSeconds = 60,
): Promise<number> {
  const rows = await CreditOrder.sequelize!.query<{ id: string; status: string }>(
    `SELECT id, status FROM credit_orders
      WHERE updated_at < $1
        AND (status = 'initial'
             OR (status = 'processing' AND buyer_payment_status = 1 AND seller_refund_status = 0))
      ORDER BY id LIMIT 500`,
    { bind: [new Date(nowMs() - graceSeconds * 1000)], type: QueryTypes.SELECT },
  );
  return enqueueRecovery(
    queues,
    'credit-order.confirm',
    'credit-confirm',
    rows.map((r) => ({ key: String(r.id), payload: { orderId: String(r.id) } })),
  );
}
