import { Op, QueryTypes, Transaction, UniqueConstraintError } from 'sequelize';
import type { Queue } from 'bullmq';
import { sha256Hex } from '../../lib/crypto';
import { withTransaction } from '../../lib/db';
import { AppError, type ErrorCode } from '../../lib/errors';
import { Dec, idrToJson, mulFloor } from '../../lib/money';
import { enqueueDirect } from '../../queues/queues';
import {
  AccountType,
  accountCode,
  investorAccount,
  platformAccount,
} from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import { getBalances, postTransaction } from '../ledger/ledger.service';
import { Loan } from '../loans/loan.model';
import { Asset } from '../orders/order.model';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { createInstruction } from '../payments/instructions';
import { RepaymentSchedule } from '../schedules/schedule.model';
import { addDays, jakartaDate } from '../schedules/schedule';
import { CreditNote } from './credit-note.model';
import { CreditOrder } from './credit-order.model';
import {
  BuyerPaymentStatus,
  CreditOrderStatus,
  SellerRefundStatus,
  creditOrderMachine,
} from './credit-order.states';
import { noteInterest } from './interest';
import { amountRefusal, REFUSAL_MESSAGES } from './transfer.rules';

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

/**
 * Seed 003's order checks (`CreditNote::check` + `validateOrder`), each with its own code, and
 * the order's figures: interest = the seller's accrued interest on the principal, pay amount =
 * floor((principal + interest) × (1 − discountRate/100)), fee = floor(principal × fee_rate),
 * both with the rules stored on the note.
 */
export async function priceOrder(
  buyerId: string,
  noteId: string,
  principal: bigint,
  today = jakartaDate(new Date()),
) {
  const note = await CreditNote.findByPk(noteId);
  if (!note)
    throw new AppError('NOT_FOUND', 'no such note', [{ path: 'noteId', message: 'no such note' }]);
  const asset = await Asset.findByPk(note.assetId);
  const loan = asset ? await Loan.findByPk(asset.loanId) : null;
  if (!asset || !loan) throw new AppError('NOT_FOUND', 'the note’s asset or loan is gone');
  if (note.isClosed || note.isCancelled || note.endTime.getTime() <= Date.now())
    throw fail('NOTE_ENDED', 'the note has ended', 'noteId');
  if (String(note.userId) === String(buyerId))
    throw fail('OWN_NOTE', 'you cannot buy your own note', 'noteId');
  const rules = {
    minOrderAmount: BigInt(note.config.min_order_amount),
    incrOrderAmount: BigInt(note.config.incr_order_amount),
  };
  const refusal = amountRefusal(note.amount - note.tradedAmount, principal, rules);
  if (refusal) throw fail(refusal as ErrorCode, REFUSAL_MESSAGES[refusal]);
  const rows = await RepaymentSchedule.findAll({
    where: { assetId: asset.id },
    order: [['period', 'ASC']],
  });
  const pending = rows.filter((r) => r.status === 'pending');
  const lastPaid = [...rows].reverse().find((r) => r.status === 'paid');
  const { currentInterest } = noteInterest({
    amount: principal,
    assetPrincipal: asset.principal,
    interestStart: asset.interestStart ?? today,
    lastRepaymentDate: lastPaid?.dueDate ?? null,
    pending: pending.map((r) => ({ period: r.period, dueDate: r.dueDate, interest: r.interest })),
    today,
  });
  const payAmount = mulFloor(
    principal + currentInterest,
    new Dec(1).minus(new Dec(note.discountRate).div(100)),
  );
  const fee = mulFloor(principal, new Dec(String(note.config.fee_rate)));
  const available = (await getBalances([investorAccount(buyerId, 'available')])).get(
    accountCode(investorAccount(buyerId, 'available')),
  )!;
  if (available < payAmount)
    throw fail('INSUFFICIENT_BALANCE', 'the wallet balance is lower than the amount to pay');
  return { note, asset, loan, interest: currentInterest, payAmount, fee, today };
}

/** POST /api/v1/credit-orders/calc. */
export async function calcCreditOrder(
  buyerId: string,
  input: { noteId: string; principal: number },
) {
  const p = await priceOrder(buyerId, input.noteId, BigInt(input.principal));
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
  const p = await priceOrder(buyerId, input.noteId, BigInt(input.principal));
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
  (await CreditOrder.findByPk(id, { transaction, lock: Transaction.LOCK.UPDATE }))!;

/** Gives a failed order's reserved money back to the buyer's wallet (once). */
async function releaseBuyerFunds(o: CreditOrder, transaction: Transaction) {
  await postTransaction(
    {
      kind: LedgerKind.TransferBuy,
      idempotencyKey: `credit-order:${o.id}:release`,
      entries: [
        { account: investorAccount(o.buyerId, 'locked'), amount: -o.payAmount },
        { account: investorAccount(o.buyerId, 'available'), amount: o.payAmount },
      ],
    },
    { transaction },
  );
}

/**
 * The credit-order.confirm job: seed 003's steps as a restartable state machine, each step in
 * its own transaction and each checking where the order stands first:
 * 1. initial: over-buy check (note.tradedAmount + principal ≤ amount, else failed); the buyer's
 *    money is reserved (available → locked, else failed) and a custody transfer instruction is
 *    made (→ processing); the gateway's answer arrives as for any instruction.
 * 2. paid (buyerPaymentStatus 1) and the seller not yet paid: the database step in ONE
 *    transaction — see settleCreditOrder.
 * Anything else waits for the payment's answer (a failed or unknown payment is applied by
 * creditOrderPaid / markCreditOrderAbnormal).
 */
export async function confirmCreditOrder(orderId: string): Promise<string> {
  const first = await withTransaction(CreditOrder.sequelize!, async (transaction) => {
    const o = await lockOrder(orderId, transaction);
    if (o.status !== CreditOrderStatus.Initial) return undefined;
    const note = (await CreditNote.findByPk(o.noteId, {
      transaction,
      lock: Transaction.LOCK.UPDATE,
    }))!;
    if (note.tradedAmount + o.principal > note.amount) {
      await moveOrder(
        o,
        CreditOrderStatus.Failed,
        { failCode: 'OVERBUY', failReason: 'the note has been sold out' },
        transaction,
      );
      return 'failed: over-buy';
    }
    const available = (
      await getBalances([investorAccount(o.buyerId, 'available')], { transaction })
    ).get(accountCode(investorAccount(o.buyerId, 'available')))!;
    if (available < o.payAmount) {
      await moveOrder(
        o,
        CreditOrderStatus.Failed,
        {
          failCode: 'INSUFFICIENT_BALANCE',
          failReason: 'the wallet balance is lower than the amount to pay',
        },
        transaction,
      );
      return 'failed: wallet short';
    }
    await postTransaction(
      {
        kind: LedgerKind.TransferBuy,
        idempotencyKey: `credit-order:${o.id}:reserve`,
        entries: [
          { account: investorAccount(o.buyerId, 'available'), amount: -o.payAmount },
          { account: investorAccount(o.buyerId, 'locked'), amount: o.payAmount },
        ],
      },
      { transaction },
    );
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
    await moveOrder(o, CreditOrderStatus.Processing, {}, transaction);
    return 'buyer payment started';
  });
  if (first) return first;
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
 * The database step, ONE transaction (order → note → seller asset locked): over-buy checked
 * again; the seller's asset reduced (invalidated when sold out); the buyer's asset created
 * (tradeCount + 1, interest from the day after the order); the note's tradedAmount raised and
 * the note closed when sold out; the ledger: transfer_buy (buyer's reserved money), transfer_sell
 * (the seller is paid, the principal changes hands), transfer_fee; the schedule split; the seller
 * paid (status 1) and the order a success.
 */
async function settleCreditOrder(o: CreditOrder, transaction: Transaction): Promise<string> {
  const note = (await CreditNote.findByPk(o.noteId, {
    transaction,
    lock: Transaction.LOCK.UPDATE,
  }))!;
  const seller = (await Asset.findByPk(o.sellerAssetId, {
    transaction,
    lock: Transaction.LOCK.UPDATE,
  }))!;
  if (note.tradedAmount + o.principal > note.amount || seller.principal < o.principal) {
    await releaseBuyerFunds(o, transaction);
    await moveOrder(
      o,
      CreditOrderStatus.Failed,
      { failCode: 'OVERBUY', failReason: 'the note was sold out before this order' },
      transaction,
    );
    return 'failed: over-buy';
  }
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
      ...(traded === note.amount ? { isClosed: true, closedAt: new Date() } : {}),
    },
    { transaction },
  );
  await splitSchedule(o, seller.id, buyer.id, before, fullSale, transaction);

  const clearing = platformAccount(AccountType.GatewayClearing);
  const post = (
    kind: LedgerKind,
    key: string,
    entries: Parameters<typeof postTransaction>[0]['entries'],
  ) =>
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
    { account: investorAccount(o.sellerId, 'available'), amount: o.payAmount },
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
    { buyerAssetId: buyer.id, sellerRefundStatus: SellerRefundStatus.Paid },
    transaction,
  );
  return 'success';
}

/**
 * The schedule split (seed 003): the seller's unpaid periods due after the order date. A full
 * sale moves them to the buyer. Otherwise the buyer gets, for each of those periods, its share
 * floor(row × principal ÷ the seller's principal before the sale); the last period takes the
 * rest (principal sums exactly to the bought principal; interest to the share of the total),
 * and the seller's rows are reduced by exactly what the buyer got — so seller + buyer always
 * equal what the single holder would have received.
 */
async function splitSchedule(
  o: CreditOrder,
  sellerAssetId: string,
  buyerAssetId: string,
  before: bigint,
  fullSale: boolean,
  transaction: Transaction,
) {
  const rows = await RepaymentSchedule.findAll({
    where: { assetId: sellerAssetId, status: 'pending', dueDate: { [Op.gt]: o.orderDate } },
    order: [['period', 'ASC']],
    transaction,
    lock: Transaction.LOCK.UPDATE,
  });
  if (fullSale) {
    await RepaymentSchedule.update(
      { assetId: buyerAssetId, userId: o.buyerId },
      { where: { id: rows.map((r) => r.id) }, transaction },
    );
    return;
  }
  const share = (x: bigint) => (x * o.principal) / before;
  const totalInterest = share(rows.reduce((s, r) => s + r.interest, 0n));
  let givenP = 0n;
  let givenI = 0n;
  for (const [i, r] of rows.entries()) {
    const last = i === rows.length - 1;
    const p = last ? o.principal - givenP : share(r.principal);
    const interest = last ? totalInterest - givenI : share(r.interest);
    givenP += p;
    givenI += interest;
    await RepaymentSchedule.create(
      {
        assetId: buyerAssetId,
        loanId: r.loanId,
        userId: o.buyerId,
        period: r.period,
        dueDate: r.dueDate,
        principal: p,
        interest,
        status: 'pending',
      },
      { transaction },
    );
    await r.update(
      { principal: r.principal - p, interest: r.interest - interest },
      { transaction },
    );
  }
}

/** The buyer's custody transfer resolved (an instruction effect, in its transaction). */
export async function creditOrderPaid(
  orderId: string,
  ok: boolean,
  failReason: string | undefined,
  transaction: Transaction,
): Promise<string> {
  const o = await lockOrder(orderId, transaction);
  if (
    o.buyerPaymentStatus === BuyerPaymentStatus.Paid ||
    o.buyerPaymentStatus === BuyerPaymentStatus.Failed
  )
    return `credit order already ${o.status}`;
  if (!ok) {
    await releaseBuyerFunds(o, transaction);
    await moveOrder(
      o,
      CreditOrderStatus.Failed,
      {
        buyerPaymentStatus: BuyerPaymentStatus.Failed,
        failCode: 'PAYMENT_FAILED',
        failReason: failReason ?? 'the buyer payment failed',
      },
      transaction,
    );
    return 'credit order failed';
  }
  if (o.status === CreditOrderStatus.Abnormal)
    await moveOrder(o, CreditOrderStatus.Processing, {}, transaction);
  await o.update({ buyerPaymentStatus: BuyerPaymentStatus.Paid }, { transaction });
  await enqueueAfterCommit('credit-order.confirm', { orderId: String(o.id) }, { transaction });
  return 'credit order paid';
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
export async function sweepCreditOrders(queues: Map<string, Queue>): Promise<number> {
  const rows = await CreditOrder.sequelize!.query<{ id: string; status: string }>(
    `SELECT id, status FROM credit_orders
      WHERE (status = 'initial' AND created_at < now() - interval '1 minute')
         OR (status = 'processing' AND buyer_payment_status = 1 AND seller_refund_status = 0 AND updated_at < now() - interval '1 minute')
      ORDER BY id LIMIT 500`,
    { type: QueryTypes.SELECT },
  );
  const bucket = Math.floor(Date.now() / 60_000);
  for (const r of rows)
    await enqueueDirect(
      queues,
      'credit-order.confirm',
      { orderId: String(r.id) },
      { jobId: `credit-confirm-${r.id}-${bucket}` },
    );
  return rows.length;
}
