import type { Config } from '../../../config';
import { createOnce } from '../../lib/create-once';
import { sha256Hex } from '../../lib/crypto';
import { withTransaction } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { idrToJson } from '../../lib/money';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { CreditOrder } from './credit-order.model';
import { CreditOrderStatus } from './credit-order.states';
import { priceOrder } from './credit-order-pricing.service';

/** Placing a credit order: priced, then an initial order handed to the confirm job (outbox). */

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

/** POST /api/v1/credit-orders: checks, then an initial order handed to the confirm job (outbox). */
export async function placeCreditOrder(
  config: Pick<Config, 'investorLimitAmount'>,
  buyerId: string,
  input: { noteId: string; principal: number },
  idempotencyKey?: string,
): Promise<CreditOrder> {
  return createOnce({
    idempotencyKey,
    requestHash: sha256Hex(JSON.stringify([input.noteId, input.principal])),
    conflict: 'another order',
    findPrior: () => CreditOrder.findOne({ where: { buyerId, idempotencyKey } }),
    create: async () => {
      const p = await priceOrder(config, buyerId, input.noteId, BigInt(input.principal));
      return withTransaction(CreditOrder.sequelize!, async (transaction) => {
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
            requestHash: sha256Hex(JSON.stringify([input.noteId, input.principal])),
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
    },
  });
}

/** GET /api/v1/credit-orders/:id: one of the caller's credit orders, as buyer or seller. */
export async function creditOrderDetail(userId: string, orderId: string) {
  const o = await CreditOrder.findByPk(orderId);
  const me = String(userId);
  if (!o || (String(o.buyerId) !== me && String(o.sellerId) !== me))
    throw new AppError('NOT_FOUND', 'no such credit order');
  return creditOrderView(o);
}
