import { Transaction } from 'sequelize';
import { AppError } from '../../lib/errors';
import { AccountType, investorAccount, platformAccount } from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import { postTransaction } from '../ledger/ledger.service';
import { Order } from '../orders/order.model';
import { OrderFailCode, OrderStatus } from '../orders/order.states';
import { completePurchase, moveOrder, releaseLock } from '../orders/orders.service';
import { Recharge, Withdrawal } from '../wallet/wallet.model';
import { WalletOpStatus, walletOpMachine } from '../wallet/wallet.states';
import { repaymentArrived } from '../repayments/repayments.service';
import { disbursementResolved } from '../settlement/settlement.service';
import { creditOrderPaid } from '../transfers/credit-orders.service';
import { createInstruction } from './instructions';
import type { PaymentInstruction } from './payment.model';

/** What the gateway finally said of an instruction. */
export interface InstructionResult {
  status: 'success' | 'failed';
  failReason?: string;
}

const escrow = platformAccount(AccountType.Escrow);

/**
 * Applies an instruction's final result to what it paid for, in the caller's transaction (the
 * instruction row is locked and was just resolved, so this runs once per instruction).
 */
export async function applyInstructionEffect(
  i: PaymentInstruction,
  r: InstructionResult,
  transaction: Transaction,
): Promise<string> {
  switch (i.purpose) {
    case 'order':
      return orderCollected(i, r, transaction);
    case 'refund':
      return refundPaidOut(i, r, transaction);
    case 'recharge':
      return rechargeCollected(i, r, transaction);
    case 'withdrawal':
      return withdrawalPaidOut(i, r, transaction);
    case 'disbursement':
      return disbursementResolved(i.refId, r.status === 'success', r.failReason, transaction);
    case 'repayment':
      return repaymentArrived(i.refId, r.status === 'success', r.failReason, transaction);
    case 'transfer':
      return creditOrderPaid(i.refId, r.status === 'success', r.failReason, transaction);
    default:
      throw new AppError('INTERNAL_ERROR', `no effect for ${i.purpose} instructions yet`, [], {
        retryable: false,
      });
  }
}

const lockOrder = async (id: string, transaction: Transaction) =>
  (await Order.findByPk(id, { transaction, lock: Transaction.LOCK.UPDATE }))!;

/**
 * A card collection for an order. Success while the lock holds: paid. Success after the lock
 * expired or the order failed: re-locked and paid if the loan still has room, else refunded
 * (refunding, money kept for the investor until the payout back to the card). Failure: the lock
 * is released and the order fails with the gateway's reason.
 */
async function orderCollected(
  i: PaymentInstruction,
  r: InstructionResult,
  transaction: Transaction,
): Promise<string> {
  const order = await lockOrder(i.refId, transaction);
  if (r.status === 'failed') {
    if (![OrderStatus.Locked, OrderStatus.Paying].includes(order.status))
      return `order already ${order.status}`;
    await releaseLock(order, transaction);
    await moveOrder(
      order,
      OrderStatus.Failed,
      {
        failCode: OrderFailCode.PaymentFailed,
        failReason: r.failReason ?? 'declined by the gateway',
        endedAt: new Date(),
      },
      transaction,
    );
    return 'order failed';
  }
  if (order.holdsLock) {
    await completePurchase(order, 'card', transaction);
    return 'order paid';
  }
  if (![OrderStatus.Expired, OrderStatus.Failed].includes(order.status))
    return `order already ${order.status}`;
  const [room] = await Order.sequelize!.query(
    `UPDATE loans SET locked_amount = locked_amount + $2, updated_at = now()
      WHERE id = $1 AND status = 'open' AND deadline > now() AND locked_amount + bought_amount + $2 <= amount RETURNING id`,
    { bind: [order.loanId, order.amount.toString()], transaction },
  );
  if ((room as unknown[]).length > 0) {
    await order.update({ holdsLock: true }, { transaction });
    await completePurchase(order, 'card', transaction);
    return 'late payment re-locked; order paid';
  }
  // No room left: the money is the investor's, held until it is paid back to the card.
  await postTransaction(
    {
      kind: LedgerKind.PurchaseRefund,
      idempotencyKey: `order:${order.id}:refund-in`,
      metadata: { orderId: String(order.id) },
      entries: [
        { account: escrow, amount: -order.amount },
        { account: investorAccount(order.userId, 'locked'), amount: order.amount, memo: 'refund' },
      ],
    },
    { transaction },
  );
  await moveOrder(
    order,
    OrderStatus.Refunding,
    { failReason: `${order.failReason ?? ''} (paid late; no room left: refunding)`.trim() },
    transaction,
  );
  await createInstruction(
    {
      kind: 'payout',
      purpose: 'refund',
      refId: String(order.id),
      userId: order.userId,
      amount: order.amount,
      bankCardId: i.bankCardId,
    },
    { transaction },
  );
  return 'late payment without room; refunding';
}

/** The payout of a refund: back to the card, or, if the card refuses it, into the wallet. */
async function refundPaidOut(
  i: PaymentInstruction,
  r: InstructionResult,
  transaction: Transaction,
): Promise<string> {
  const order = await lockOrder(i.refId, transaction);
  const toCard = r.status === 'success';
  await postTransaction(
    {
      kind: LedgerKind.PurchaseRefund,
      idempotencyKey: `order:${order.id}:refund-out`,
      metadata: { orderId: String(order.id), to: toCard ? 'card' : 'wallet' },
      entries: [
        { account: investorAccount(order.userId, 'locked'), amount: -order.amount, memo: 'refund' },
        toCard
          ? { account: escrow, amount: order.amount }
          : {
              account: investorAccount(order.userId, 'available'),
              amount: order.amount,
              memo: 'refund',
            },
      ],
    },
    { transaction },
  );
  await moveOrder(
    order,
    OrderStatus.Refunded,
    toCard
      ? {}
      : {
          failReason:
            `${order.failReason ?? ''} (card payout failed: refunded to the wallet)`.trim(),
        },
    transaction,
  );
  return toCard ? 'refunded to the card' : 'refunded to the wallet';
}

async function rechargeCollected(
  i: PaymentInstruction,
  r: InstructionResult,
  transaction: Transaction,
): Promise<string> {
  const recharge = (await Recharge.findByPk(i.refId, {
    transaction,
    lock: Transaction.LOCK.UPDATE,
  }))!;
  if (recharge.status !== WalletOpStatus.Pending) return `recharge already ${recharge.status}`;
  if (r.status === 'success') {
    await postTransaction(
      {
        kind: LedgerKind.Recharge,
        idempotencyKey: `recharge:${recharge.id}`,
        entries: [
          { account: escrow, amount: -recharge.amount },
          { account: investorAccount(recharge.userId, 'available'), amount: recharge.amount },
        ],
      },
      { transaction },
    );
  }
  const to = r.status === 'success' ? WalletOpStatus.Succeeded : WalletOpStatus.Failed;
  walletOpMachine.assert(recharge.status, to);
  await recharge.update(
    { status: to, failReason: r.status === 'failed' ? (r.failReason ?? 'declined') : null },
    { transaction },
  );
  return `recharge ${to}`;
}

async function withdrawalPaidOut(
  i: PaymentInstruction,
  r: InstructionResult,
  transaction: Transaction,
): Promise<string> {
  const w = (await Withdrawal.findByPk(i.refId, { transaction, lock: Transaction.LOCK.UPDATE }))!;
  if (w.status !== WalletOpStatus.Pending) return `withdrawal already ${w.status}`;
  const ok = r.status === 'success';
  await postTransaction(
    {
      kind: ok ? LedgerKind.WithdrawalPaid : LedgerKind.WithdrawalReturned,
      idempotencyKey: `withdrawal:${w.id}:${ok ? 'paid' : 'returned'}`,
      entries: [
        { account: investorAccount(w.userId, 'locked'), amount: -w.amount },
        ok
          ? { account: escrow, amount: w.amount }
          : { account: investorAccount(w.userId, 'available'), amount: w.amount },
      ],
    },
    { transaction },
  );
  const to = ok ? WalletOpStatus.Succeeded : WalletOpStatus.Failed;
  walletOpMachine.assert(w.status, to);
  await w.update(
    { status: to, failReason: ok ? null : (r.failReason ?? 'payout failed') },
    { transaction },
  );
  return `withdrawal ${to}`;
}
