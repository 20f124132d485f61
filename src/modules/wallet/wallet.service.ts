import { Transaction } from 'sequelize';
import { nowMs } from '../../lib/clock';
import { sha256Hex } from '../../lib/crypto';
import { withTransaction } from '../../lib/db';
import { createOnce } from '../../lib/create-once';
import { AppError } from '../../lib/errors';
import { idrToJson } from '../../lib/money';
import { BankCard } from '../banks/bank-card.model';
import { KycStatus } from '../kyc/kyc.states';
import { investorAccount } from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import { postTransaction } from '../ledger/ledger.service';
import { createInstruction } from '../payments/instructions';
import { User } from '../users/user.model';
import { Recharge, Withdrawal } from './wallet.model';
import { WalletOpStatus } from './wallet.states';

export const walletOpView = (w: Recharge | Withdrawal) => ({
  id: String(w.id),
  amount: idrToJson(w.amount),
  status: w.status,
  failReason: w.failReason,
  createdAt: w.createdAt,
});

type Op = typeof Recharge | typeof Withdrawal;

async function requireCard(userId: string, transaction: Transaction): Promise<BankCard> {
  const user = await User.findByPk(userId, { transaction, lock: Transaction.LOCK.NO_KEY_UPDATE });
  if (user?.kycStatus !== KycStatus.Verified)
    throw new AppError('KYC_REQUIRED', 'verify your identity (KYC) first');
  const card = await BankCard.findOne({ where: { userId, status: 'active' }, transaction });
  if (!card) throw new AppError('BANK_CARD_REQUIRED', 'bind a bank card first');
  return card;
}

/**
 * Withdrawals wait CARD_CHANGE_WITHDRAW_HOLD_HOURS after a bound card was replaced (a stolen
 * session cannot swap the card and cash out at once). Read from PostgreSQL (the replaced card's
 * `replaced_at`), under the user row lock that card binding takes too.
 */
async function assertNoCardChangeHold(
  userId: string,
  holdSeconds: number,
  transaction: Transaction,
): Promise<void> {
  if (holdSeconds <= 0) return;
  const replacedAt = await BankCard.max<Date | null, BankCard>('replacedAt', {
    where: { userId, status: 'replaced' },
    transaction,
  });
  if (!replacedAt) return;
  const lifts = new Date(new Date(replacedAt).getTime() + holdSeconds * 1000);
  if (nowMs() < lifts.getTime())
    throw new AppError(
      'WITHDRAWAL_ON_HOLD',
      `withdrawals are on hold until ${lifts.toISOString()}: the bank card was replaced`,
      [{ path: 'holdUntil', message: lifts.toISOString() }],
    );
}

/** Idempotent creation of a recharge or withdrawal row keyed by (user, Idempotency-Key). */
async function createOnceFor<T extends Recharge | Withdrawal>(
  model: Op,
  userId: string,
  amount: number,
  idempotencyKey: string | undefined,
  work: (row: T, transaction: Transaction) => Promise<void>,
): Promise<T> {
  const requestHash = sha256Hex(String(amount));
  const rows = model as typeof Recharge;
  return createOnce<T>({
    idempotencyKey,
    requestHash,
    conflict: 'another amount',
    findPrior: async () => (await rows.findOne({ where: { userId, idempotencyKey } })) as T | null,
    create: () =>
      withTransaction(User.sequelize!, async (transaction) => {
        const row = (await rows.create(
          {
            userId,
            amount: BigInt(amount),
            status: WalletOpStatus.Pending,
            idempotencyKey: idempotencyKey ?? null,
            requestHash,
          },
          { transaction },
        )) as T;
        await work(row, transaction);
        return row;
      }),
  });
}

/** POST /api/v1/me/recharges: a gateway collection from the bound card into the wallet. */
export function createRecharge(
  userId: string,
  amount: number,
  idempotencyKey?: string,
): Promise<Recharge> {
  return createOnceFor<Recharge>(
    Recharge,
    userId,
    amount,
    idempotencyKey,
    async (r, transaction) => {
      const card = await requireCard(userId, transaction);
      await createInstruction(
        {
          kind: 'collection',
          purpose: 'recharge',
          refId: String(r.id),
          userId,
          amount: r.amount,
          bankCardId: String(card.id),
        },
        { transaction },
      );
    },
  );
}

/**
 * POST /api/v1/me/withdrawals: the amount moves available → locked at once (422
 * INSUFFICIENT_BALANCE otherwise), then a gateway payout to the bound card; a failed payout
 * returns it to available.
 */
export function createWithdrawal(
  userId: string,
  amount: number,
  idempotencyKey?: string,
  opts: { cardChangeHoldSeconds?: number } = {},
): Promise<Withdrawal> {
  return createOnceFor<Withdrawal>(
    Withdrawal,
    userId,
    amount,
    idempotencyKey,
    async (w, transaction) => {
      const card = await requireCard(userId, transaction);
      await assertNoCardChangeHold(userId, opts.cardChangeHoldSeconds ?? 0, transaction);
      await postTransaction(
        {
          kind: LedgerKind.WithdrawalLock,
          idempotencyKey: `withdrawal:${w.id}:lock`,
          entries: [
            { account: investorAccount(userId, 'available'), amount: -w.amount },
            { account: investorAccount(userId, 'locked'), amount: w.amount },
          ],
        },
        { transaction },
      );
      await createInstruction(
        {
          kind: 'payout',
          purpose: 'withdrawal',
          refId: String(w.id),
          userId,
          amount: w.amount,
          bankCardId: String(card.id),
        },
        { transaction },
      );
    },
  );
}
