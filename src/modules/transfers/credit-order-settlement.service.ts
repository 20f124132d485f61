import { Transaction } from 'sequelize';
import { now } from '../../lib/clock';
import { Asset } from '../assets/asset.model';
import { AssetStatus, assetMachine } from '../assets/asset.states';
import { postTransaction } from '../ledger/ledger.service';
import type { Loan } from '../loans/loan.model';
import { RepaymentSchedule } from '../schedules/schedule.model';
import { addDays } from '../schedules/schedule';
import { CreditNoteStatus, creditNoteMachine } from './credit-note.states';
import { CreditOrder } from './credit-order.model';
import {
  CreditOrderFailCode,
  CreditOrderStatus,
  SellerRefundStatus,
  creditOrderMachine,
  sellerProceedsMachine,
} from './credit-order.states';
import { noteRefusal, pendingRows } from './credit-order-pricing.service';
import { failCreditOrder, lockNoteContext } from './credit-order-steps';
import { settlementPostings, splitSchedule } from './transfer-clearing';
import { PeriodStatus } from '../schedules/schedule.states';

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
export async function settleCreditOrder(o: CreditOrder, transaction: Transaction): Promise<string> {
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
      status: AssetStatus.Holding,
      interestStart: addDays(o.orderDate, 1),
      parentAssetId: seller.id,
      noteId: note.id,
    },
    { transaction },
  );
  if (fullSale)
    await assetMachine.transition(
      seller,
      AssetStatus.Transferred,
      { principal: 0n, maxTradableAmount: 0n },
      { transaction },
    );
  else await seller.update({ principal: before - o.principal }, { transaction });
  const traded = note.tradedAmount + o.principal;
  await note.update(
    { tradedAmount: traded, reservedAmount: note.reservedAmount - o.principal },
    { transaction },
  );
  if (traded === note.amount)
    await creditNoteMachine.transition(
      note,
      CreditNoteStatus.SoldOut,
      { closedAt: now() },
      { transaction },
    );
  await writeScheduleSplit(o, loan, rows, buyer.id, transaction);
  for (const posting of settlementPostings(o)) await postTransaction(posting, { transaction });
  sellerProceedsMachine.assert(o.sellerRefundStatus, SellerRefundStatus.Paid);
  await creditOrderMachine.transition(
    o,
    CreditOrderStatus.Success,
    { buyerAssetId: buyer.id, sellerRefundStatus: SellerRefundStatus.Paid, reserved: false },
    { transaction },
  );
  return 'success';
}

/**
 * Writes the schedule split (transfer-clearing.ts `splitSchedule`) over the seller's unpaid rows
 * (the caller holds them): a full sale moves them to the buyer; a partial one gives the buyer
 * new rows and the seller's rows keep the rest, interest reckoned again on each side.
 */
async function writeScheduleSplit(
  o: CreditOrder,
  loan: Loan,
  rows: RepaymentSchedule[],
  buyerAssetId: string,
  transaction: Transaction,
) {
  const split = splitSchedule(rows, o.principal, {
    yearRate: loan.yearRateFin,
    method: loan.repaymentMethod,
    term: loan.term,
  });
  if (split.kind === 'move') {
    await RepaymentSchedule.update(
      { assetId: buyerAssetId, userId: o.buyerId },
      { where: { id: rows.map((r) => r.id) }, transaction },
    );
    return;
  }
  await RepaymentSchedule.bulkCreate(
    rows.map((r, i) => ({
      assetId: buyerAssetId,
      loanId: r.loanId,
      userId: o.buyerId,
      period: r.period,
      dueDate: r.dueDate,
      principal: split.bought[i].principal,
      interest: split.bought[i].interest,
      status: PeriodStatus.Pending,
    })),
    { transaction },
  );
  for (const [i, r] of rows.entries()) await r.update(split.kept[i], { transaction });
}
