import { bankCardMachine, BankCardStatus } from './bank-card.states';
import type { Redis } from 'ioredis';
import { Op, Transaction, UniqueConstraintError } from 'sequelize';
import type { Config } from '../../../config';
import type { PiiCipher } from '../../lib/crypto';
import { withTransaction } from '../../lib/db';
import { now } from '../../lib/clock';
import { AppError } from '../../lib/errors';
import { maskCard } from '../../lib/masking';
import { reauthenticate } from '../auth/auth.service';
import { KycStatus } from '../kyc/kyc.states';
import { User } from '../users/user.model';
import { Bank } from './bank.model';
import { BankCard } from './bank-card.model';

/** A bound card as every response shows it: number masked. */
export interface BankCardView {
  id: string;
  bankCode: string;
  bankName: string;
  cardNo: string;
  boundAt: Date;
}

export const bankView = (b: Bank) => ({
  bankCode: b.code,
  bankName: b.name,
  binPrefixes: b.binPrefixes,
});

/** Active banks (seed 000 item 6). */
export const listBanks = () => Bank.findAll({ where: { active: true }, order: [['name', 'ASC']] });

function cardView(card: BankCard, bank: Bank): BankCardView {
  return {
    id: String(card.id),
    bankCode: bank.code,
    bankName: bank.name,
    cardNo: maskCard(card.cardLast4),
    boundAt: card.createdAt,
  };
}

const alreadyBound = () =>
  new AppError('CARD_ALREADY_BOUND', 'this card is bound to another investor', [
    { path: 'cardNo', message: 'bound to another investor' },
  ]);

/**
 * Binds an investor's bank card (seed 000 item 7): KYC must be verified, the number's BIN must
 * belong to the chosen bank, the number is stored encrypted. One active card per investor: a new
 * card replaces the old one, which stays recorded as `replaced` (its `replaced_at` starts the
 * withdrawal hold). Replacing a bound card needs fresh proof, the account password (403
 * REAUTH_REQUIRED without it or with a wrong one; wrong ones count against the login throttle
 * of the investor's mobile, 429 past it); the first binding after KYC does not.
 */
export async function bindCard(
  deps: { cipher: PiiCipher; redis: Redis; config: Readonly<Config> },
  userId: string,
  input: { bankCode: string; cardNo: string; password?: string },
): Promise<{ card: BankCardView; created: boolean; replaced: boolean }> {
  const { cipher } = deps;
  // The password is checked before the transaction (a slow hash must not hold the user's row),
  // and only when this binding would replace another card.
  const current = await BankCard.findOne({ where: { userId, status: BankCardStatus.Active } });
  const replacing = (c: BankCard | null | undefined) =>
    !!c && (c.cardHash !== cipher.lookupHash(input.cardNo) || c.bankCode !== input.bankCode);
  let reauthenticated = false;
  if (replacing(current)) {
    if (!input.password) throw reauthRequired();
    if (!(await reauthenticate(deps, userId, input.password)))
      throw reauthRequired('the password is wrong');
    reauthenticated = true;
  }
  try {
    return await withTransaction(User.sequelize!, async (transaction) => {
      const user = await User.findByPk(userId, {
        transaction,
        lock: Transaction.LOCK.NO_KEY_UPDATE,
      });
      if (!user) throw new AppError('NOT_FOUND', 'no such user');
      if (user.kycStatus !== KycStatus.Verified) {
        throw new AppError('KYC_REQUIRED', 'verify your identity (KYC) before binding a card');
      }
      const bank = await Bank.findOne({
        where: { code: input.bankCode, active: true },
        transaction,
      });
      if (!bank)
        throw new AppError('UNKNOWN_BANK', `no bank ${input.bankCode}`, [
          { path: 'bankCode', message: 'not in the bank list' },
        ]);
      if (!bank.binPrefixes.some((p) => input.cardNo.startsWith(p))) {
        throw new AppError(
          'CARD_BANK_MISMATCH',
          `this card number does not belong to ${bank.name}`,
          [{ path: 'cardNo', message: `BIN does not match ${bank.code}` }],
        );
      }
      const cardHash = cipher.lookupHash(input.cardNo);
      const active = await BankCard.findAll({
        where: { status: BankCardStatus.Active, [Op.or]: [{ userId }, { cardHash }] },
        transaction,
      });
      if (active.some((c) => String(c.userId) !== String(userId))) throw alreadyBound();
      const own = active.find((c) => String(c.userId) === String(userId));
      if (own && own.cardHash === cardHash && own.bankCode === bank.code)
        return { card: cardView(own, bank), created: false, replaced: false };
      // A card bound meanwhile (another request) makes this a replacement after all.
      if (own && !reauthenticated) throw reauthRequired();
      if (own)
        await bankCardMachine.transition(
          own,
          BankCardStatus.Replaced,
          { replacedAt: now() },
          { transaction },
        );
      const card = await BankCard.create(
        {
          userId,
          bankCode: bank.code,
          cardEncrypted: cipher.encrypt(input.cardNo),
          cardHash,
          cardLast4: input.cardNo.slice(-4),
          status: BankCardStatus.Active,
        },
        { transaction },
      );
      return { card: cardView(card, bank), created: true, replaced: !!own };
    });
  } catch (err) {
    if (err instanceof UniqueConstraintError) throw alreadyBound();
    throw err;
  }
}

const reauthRequired = (why = 'replacing a bound card needs your password') =>
  new AppError('REAUTH_REQUIRED', why, [{ path: 'password', message: why }]);

/** The investor's active card, masked, or null. */
export async function activeCard(userId: string): Promise<BankCardView | null> {
  const card = await BankCard.findOne({ where: { userId, status: BankCardStatus.Active } });
  if (!card) return null;
  const bank = (await Bank.findByPk(card.bankCode))!;
  return cardView(card, bank);
}
