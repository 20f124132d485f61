import { QueryTypes, Transaction } from 'sequelize';
import { planted } from '../../lib/plants';
import { AccountType, investorAccount, platformAccount } from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import { postTransaction, tryPostTransaction } from '../ledger/ledger.service';
import type { PaymentEffect, PaymentEffects } from '../payments/payment-effects';
import { Recharge, Withdrawal } from './wallet.model';
import { WalletOpStatus, walletOpMachine } from './wallet.states';

const escrow = platformAccount(AccountType.Escrow);
const lock = { lock: Transaction.LOCK.NO_KEY_UPDATE };

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
const rechargeCollected: PaymentEffect = async (i, r, transaction) => {
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
  await walletOpMachine.transition(
    recharge,
    to,
    { failReason: r.status === 'failed' ? (r.failReason ?? 'declined') : null },
    { transaction },
  );
  return late ? 'recharge succeeded after its decline' : `recharge ${to}`;
};

/**
 * A withdrawal's payout: paid (locked → escrow) or, once the decline is confirmed, returned to
 * the wallet. A success after that: the money left after all, so the wallet gives it back when
 * it can; otherwise finance recovers it (reconcile lists it).
 */
const withdrawalPaidOut: PaymentEffect = async (i, r, transaction) => {
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
    await walletOpMachine.transition(
      w,
      WalletOpStatus.Succeeded,
      { failReason: null },
      { transaction },
    );
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
  await walletOpMachine.transition(
    w,
    to,
    { failReason: ok ? null : (r.failReason ?? 'payout failed') },
    { transaction },
  );
  return `withdrawal ${to}`;
};

/** The wallet's payment effects: a recharge's collection and a withdrawal's payout. */
export const walletPaymentEffects = {
  recharge: rechargeCollected,
  withdrawal: withdrawalPaidOut,
} satisfies PaymentEffects;
