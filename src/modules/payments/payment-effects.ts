import { QueryTypes, Transaction } from 'sequelize';
import { planted } from '../../lib/plants';
import { now } from '../../lib/clock';
import { AccountType, investorAccount, platformAccount } from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import { postTransaction, tryPostTransaction } from '../ledger/ledger.service';
import { Order } from '../orders/order.model';
import { OrderFailCode, OrderStatus } from '../orders/order.states';
import {
  completePurchase,
  moveOrder,
  relockLatePayment,
  releaseLock,
} from '../orders/orders.service';
import { Recharge, Withdrawal } from '../wallet/wallet.model';
import { WalletOpStatus, walletOpMachine } from '../wallet/wallet.states';
import { repaymentArrived, repaymentReturned } from '../repayments/repayments.service';
import { disbursementResolved } from '../settlement/settlement.service';
import { creditOrderPaid, creditOrderReversed } from '../transfers/credit-orders.service';
import type { InstructionPurpose } from './instruction.states';
import { createInstruction } from './instructions';
import type { PaymentInstruction } from './payment.model';

/** What the gateway finally said of an instruction. */
export interface InstructionResult {
  status: 'success' | 'failed';
  failReason?: string;
}

/**
 * What an instruction's final result does to what it paid for, in the caller's transaction (the
 * instruction row is locked and was just resolved, so it runs once per result). `late` marks a
 * success that follows a failure already applied: the money moved after all, so it is applied
 * now — re-locked, credited, refunded or taken back — never left aside.
 */
type Effect = (
  i: PaymentInstruction,
  r: InstructionResult,
  transaction: Transaction,
  late: boolean,
) => Promise<string>;

const escrow = platformAccount(AccountType.Escrow);

const lock = { lock: Transaction.LOCK.NO_KEY_UPDATE };
const lockOrder = async (id: string, transaction: Transaction) =>
  (await Order.findByPk(id, { transaction, ...lock }))!;

/**
 * A card collection for an order. Success while the lock holds: paid. Success after the lock
 * expired or the order failed (a decline the gateway contradicts later): re-locked and paid if
 * the loan still has room, else refunded. Failure: the lock is released and the order fails
 * with the gateway's reason.
 */
const orderCollected: Effect = async (i, r, transaction) => {
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
        endedAt: now(),
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
  return relockLatePayment(order, i.bankCardId, transaction);
};

/**
 * The payout of a refund: back to the card, or, when the card refuses it (confirmed), into the
 * wallet. A success after that: the card got it after all, so the wallet gives it back when it
 * can; otherwise finance recovers it (reconcile lists it).
 */
const refundPaidOut: Effect = async (i, r, transaction, late) => {
  const order = await lockOrder(i.refId, transaction);
  if (late) {
    const taken = await tryPostTransaction(
      {
        kind: LedgerKind.PurchaseRefund,
        idempotencyKey: `order:${order.id}:refund-late`,
        metadata: { orderId: String(order.id), to: 'card after the wallet' },
        entries: [
          { account: investorAccount(order.userId, 'available'), amount: -order.amount },
          { account: escrow, amount: order.amount },
        ],
      },
      { transaction },
    );
    return taken
      ? 'refund reached the card after all: taken back from the wallet'
      : `not applied: refund paid to the card after the wallet had it; recover ${order.amount} from investor ${order.userId}`;
  }
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
};

/** The `double-callback` plant's bug: a repeated success credits the wallet again. */
async function creditAgain(recharge: Recharge, transaction: Transaction): Promise<string> {
  const [{ n }] = (await Recharge.sequelize!.query(
    `SELECT COUNT(*)::int AS n FROM ledger_transactions WHERE idempotency_key LIKE $1`,
    { bind: [`recharge:${recharge.id}%`], type: QueryTypes.SELECT, transaction },
  )) as { n: number }[];
  await postTransaction(
    {
      kind: LedgerKind.Recharge,
      idempotencyKey: `recharge:${recharge.id}:again:${n}`,
      entries: [
        { account: escrow, amount: -recharge.amount },
        { account: investorAccount(recharge.userId, 'available'), amount: recharge.amount },
      ],
    },
    { transaction },
  );
  return 'recharge credited again (planted bug)';
}

/** A recharge's collection: the wallet is credited on success, also on a success after a decline. */
const rechargeCollected: Effect = async (i, r, transaction) => {
  const recharge = (await Recharge.findByPk(i.refId, { transaction, ...lock }))!;
  const late = recharge.status === WalletOpStatus.Failed && r.status === 'success';
  if (planted('double-callback') && recharge.status === WalletOpStatus.Succeeded)
    return creditAgain(recharge, transaction);
  if (recharge.status !== WalletOpStatus.Pending && !late)
    return `recharge already ${recharge.status}`;
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
  return late ? 'recharge succeeded after its decline' : `recharge ${to}`;
};

/**
 * A withdrawal's payout: paid (locked → escrow) or, once the decline is confirmed, returned to
 * the wallet. A success after that: the money left after all, so the wallet gives it back when
 * it can; otherwise finance recovers it (reconcile lists it).
 */
const withdrawalPaidOut: Effect = async (i, r, transaction) => {
  const w = (await Withdrawal.findByPk(i.refId, { transaction, ...lock }))!;
  const ok = r.status === 'success';
  if (w.status === WalletOpStatus.Failed && ok) {
    const taken = await tryPostTransaction(
      {
        kind: LedgerKind.WithdrawalPaid,
        idempotencyKey: `withdrawal:${w.id}:paid-late`,
        entries: [
          { account: investorAccount(w.userId, 'available'), amount: -w.amount },
          { account: escrow, amount: w.amount },
        ],
      },
      { transaction },
    );
    if (!taken)
      return `not applied: withdrawal paid out after its decline was confirmed; recover ${w.amount} from investor ${w.userId}`;
    walletOpMachine.assert(w.status, WalletOpStatus.Succeeded);
    await w.update({ status: WalletOpStatus.Succeeded, failReason: null }, { transaction });
    return 'withdrawal paid after its decline';
  }
  if (w.status !== WalletOpStatus.Pending) return `withdrawal already ${w.status}`;
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
};

/** A reversal of a credit order's custody transfer: retried with a new attempt until it goes through. */
const transferReversed: Effect = async (i, r, transaction) => {
  const outcome = await creditOrderReversed(i.refId, r.status === 'success');
  if (r.status === 'success') return outcome;
  await createInstruction(
    {
      kind: i.kind,
      purpose: i.purpose,
      refId: i.refId,
      userId: i.userId,
      amount: i.amount,
      bankCardId: null,
      attempt: i.attempt + 1,
    },
    { transaction },
  );
  return `${outcome}; attempt ${i.attempt + 1} started`;
};

/** Every purpose's effect (a new purpose without one does not compile). */
const EFFECTS: Record<InstructionPurpose, Effect> = {
  order: orderCollected,
  refund: refundPaidOut,
  recharge: rechargeCollected,
  withdrawal: withdrawalPaidOut,
  disbursement: (i, r, t) =>
    disbursementResolved(i.refId, i.attempt, r.status === 'success', r.failReason, t),
  repayment: (i, r, t) => repaymentArrived(i.refId, r.status === 'success', r.failReason, t),
  repayment_return: (i, r, t) =>
    repaymentReturned(i.refId, r.status === 'success', r.failReason, t),
  transfer: (i, r, t) => creditOrderPaid(i.refId, r.status === 'success', r.failReason, t),
  transfer_reversal: transferReversed,
};

/** Applies an instruction's final result to what it paid for, in the caller's transaction. */
export function applyInstructionEffect(
  i: PaymentInstruction,
  r: InstructionResult,
  transaction: Transaction,
  late = false,
): Promise<string> {
  return EFFECTS[i.purpose](i, r, transaction, late);
}
