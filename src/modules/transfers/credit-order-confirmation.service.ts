import { QueryTypes, Transaction } from 'sequelize';
import type { Queue } from 'bullmq';
import type { Config } from '../../../config';
import type { PartnerPort } from '../../adapters/partner';
import { nowMs } from '../../lib/clock';
import type { PiiCipher } from '../../lib/crypto';
import { withTransaction } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { enqueueRecovery } from '../../queues/queues';
import { LedgerKind } from '../ledger/ledger.kinds';
import { tryPostTransaction } from '../ledger/ledger.service';
import { hasPartnerLoan } from '../orders/orders.service';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { createInstruction } from '../payments/instructions';
import { User } from '../users/user.model';
import { CreditOrder } from './credit-order.model';
import {
  BuyerPaymentStatus,
  CreditOrderFailCode,
  CreditOrderStatus,
  SellerRefundStatus,
  buyerPaymentMachine,
  creditOrderMachine,
} from './credit-order.states';
import { buyerRefusal, noteRefusal, pendingRows } from './credit-order-pricing.service';
import { settleCreditOrder } from './credit-order-settlement.service';
import { failCreditOrder, lockNoteContext, lockOrder, startReversal } from './credit-order-steps';
import { buyerWalletEntries } from './transfer-clearing';

/**
 * Confirming a credit order (the confirm job, the buyer payment's answers and the sweeper that
 * finds lost steps); the database step itself is credit-order-settlement.service.ts.
 */

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
          entries: buyerWalletEntries(o, -1n),
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
      await creditOrderMachine.transition(
        o,
        CreditOrderStatus.Processing,
        { reserved: true },
        { transaction },
      );
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
    await buyerPaymentMachine.transition(o, BuyerPaymentStatus.Paid, {}, { transaction });
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
    await creditOrderMachine.transition(o, CreditOrderStatus.Processing, {}, { transaction });
  await buyerPaymentMachine.transition(o, BuyerPaymentStatus.Paid, {}, { transaction });
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
        ...creditOrderMachine.movableTo(CreditOrderStatus.Abnormal),
        ...buyerPaymentMachine.movableTo(BuyerPaymentStatus.Unknown),
        // only a payment not yet answered: an answered one keeps its answer
        [buyerPaymentMachine.field]: BuyerPaymentStatus.None,
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
