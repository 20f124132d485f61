import { Transaction } from 'sequelize';
import { now } from '../../lib/clock';
import { AccountType, investorAccount, platformAccount } from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import { postTransaction, tryPostTransaction } from '../ledger/ledger.service';
import type { PaymentEffect, PaymentEffects } from '../payments/payment-effects';
import { Order } from './order.model';
import { OrderFailCode, OrderStatus, orderMachine } from './order.states';
import { completePurchase, relockLatePayment, releaseLock } from './orders.service';

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
const orderCollected: PaymentEffect = async (i, r, transaction) => {
  const order = await lockOrder(i.refId, transaction);
  if (r.status === 'failed') {
    if (![OrderStatus.Locked, OrderStatus.Paying].includes(order.status))
      return `order already ${order.status}`;
    await releaseLock(order, transaction);
    await orderMachine.transition(
      order,
      OrderStatus.Failed,
      {
        failCode: OrderFailCode.PaymentFailed,
        failReason: r.failReason ?? 'declined by the gateway',
        endedAt: now(),
      },
      { transaction },
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
const refundPaidOut: PaymentEffect = async (i, r, transaction, late) => {
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
  await orderMachine.transition(
    order,
    OrderStatus.Refunded,
    toCard
      ? {}
      : {
          failReason:
            `${order.failReason ?? ''} (card payout failed: refunded to the wallet)`.trim(),
        },
    { transaction },
  );
  return toCard ? 'refunded to the card' : 'refunded to the wallet';
};

/** The purchase's payment effects: a card collection for an order, and a refund's payout. */
export const orderPaymentEffects = {
  order: orderCollected,
  refund: refundPaidOut,
} satisfies PaymentEffects;
