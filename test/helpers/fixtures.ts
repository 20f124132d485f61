/**
 * Fixtures shared by the tests and the benchmark (no mocha, no chai): a loan as the partner
 * sends it, and an investor made straight in the database. Both read what they need from a
 * runtime-like object, so the bench's own runtime and the tests' one use them alike.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { PiiCipher } from '../../src/lib/crypto';
import { BankCard } from '../../src/modules/banks/bank-card.model';
import { KycVerification } from '../../src/modules/kyc/kyc.model';
import { KycStatus } from '../../src/modules/kyc/kyc.states';
import { User, UserRole } from '../../src/modules/users/user.model';
import { randomCard, randomMobile, randomNik } from './api';

/** A loan body as the partner POSTs it to /partner/v1/loans (override any field). */
export function loanBody(over: Record<string, unknown> = {}) {
  return {
    creditorNo: `CR${randomUUID().replace(/-/g, '').slice(0, 16)}`,
    loanPurpose: 'modal usaha',
    riskLevel: 'A',
    yearRateFin: '12.5',
    yearRateLoan: 18,
    term: 30,
    termUnit: 'day',
    repaymentMethod: 'bullet',
    amountApply: 10_000_000,
    serviceFee: 500_000,
    publishedAt: new Date().toISOString(),
    borrowerId: `B${randomInt(1e9)}`,
    bankCode: 'BCA',
    bankName: 'Bank Central Asia',
    bankCardNo: randomCard('455633'),
    bankCardHolder: 'Rina Herlina',
    ...over,
  };
}

/**
 * An investor row, optionally KYC-verified (a provider-passed submission) and with an active
 * card of BCA ending `cardLast4`. Returns the user id.
 */
export async function insertInvestor(
  cipher: PiiCipher,
  opts: {
    kyc?: boolean;
    card?: boolean;
    cardLast4?: string;
    cardNo?: string;
    nikSerial?: string;
    nik?: string;
    mobile?: string;
    name?: string;
  } = {},
): Promise<string> {
  const user = await User.create({
    role: UserRole.Investor,
    mobile: opts.mobile ?? randomMobile(),
    kycStatus: opts.kyc === false ? KycStatus.None : KycStatus.Verified,
  });
  const userId = String(user.id);
  if (opts.kyc !== false) {
    const nik = opts.nik ?? randomNik(opts.nikSerial);
    await KycVerification.create({
      userId,
      realName: opts.name ?? 'Test Investor',
      nikEncrypted: cipher.encrypt(nik),
      nikHash: cipher.lookupHash(nik),
      nikLast4: nik.slice(-4),
      status: KycStatus.Verified,
      verifiedBy: 'provider',
    });
  }
  if (opts.card !== false) {
    const cardNo = opts.cardNo ?? randomCard('455633', opts.cardLast4);
    await BankCard.create({
      userId,
      bankCode: 'BCA',
      cardEncrypted: cipher.encrypt(cardNo),
      cardHash: cipher.lookupHash(cardNo),
      cardLast4: cardNo.slice(-4),
      status: 'active',
    });
  }
  return userId;
}
