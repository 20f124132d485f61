import { Transaction } from 'sequelize';
import { now } from '../../lib/clock';
import { Asset } from '../assets/asset.model';
import { LedgerKind } from '../ledger/ledger.kinds';
import { postTransaction } from '../ledger/ledger.service';
import { Loan } from '../loans/loan.model';
import { createInstruction } from '../payments/instructions';
import { CreditNote } from './credit-note.model';
import { CreditOrder } from './credit-order.model';
import {
  BuyerPaymentStatus,
  CreditOrderStatus,
  buyerPaymentMachine,
  creditOrderMachine,
} from './credit-order.states';
import type { NoteContext, Refusal } from './credit-order-pricing.service';
import { buyerWalletEntries } from './transfer-clearing';

/** What every step of a credit order shares: its locks, in the one fixed order, and its failure. */

/** The order row, locked (first, before anything it points at). */
export const lockOrder = async (id: string, transaction: Transaction) =>
  (await CreditOrder.findByPk(id, { transaction, lock: Transaction.LOCK.NO_KEY_UPDATE }))!;

/** The order's locks: loan (shared), the seller's asset, the note — the one fixed order. */
export async function lockNoteContext(
  o: CreditOrder,
  transaction: Transaction,
): Promise<NoteContext> {
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
export async function failCreditOrder(
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
        entries: buyerWalletEntries(o, 1n),
      },
      { transaction },
    );
  if (fields.buyerPaymentStatus !== undefined)
    buyerPaymentMachine.assert(o.buyerPaymentStatus, fields.buyerPaymentStatus);
  const paid = (fields.buyerPaymentStatus ?? o.buyerPaymentStatus) === BuyerPaymentStatus.Paid;
  if (paid) await startReversal(o, transaction);
  await creditOrderMachine.transition(
    o,
    CreditOrderStatus.Failed,
    { ...fields, reserved: false, failCode: refusal.code, failReason: refusal.reason },
    { transaction },
  );
  return `failed: ${refusal.code}${paid ? '; buyer payment reversed' : ''}`;
}

/** A custody transfer that gives the buyer's money back at the custodian (no ledger effect). */
export async function startReversal(o: CreditOrder, transaction: Transaction) {
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
