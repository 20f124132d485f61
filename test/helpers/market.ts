import { randomInt, randomUUID } from 'node:crypto';
import { signPayload } from '../../src/lib/crypto';
import { withTransaction } from '../../src/lib/db';
import { BankCard } from '../../src/modules/banks/bank-card.model';
import { KycVerification } from '../../src/modules/kyc/kyc.model';
import { KycStatus } from '../../src/modules/kyc/kyc.states';
import {
  AccountType,
  investorAccount,
  platformAccount,
} from '../../src/modules/ledger/ledger.accounts';
import { LedgerKind } from '../../src/modules/ledger/ledger.kinds';
import { postTransaction } from '../../src/modules/ledger/ledger.service';
import { User, UserRole } from '../../src/modules/users/user.model';
import type { Runtime } from '../../src/runtime';
import type { Config } from '../../config';
import { PROCESSORS } from '../../jobs/processors';
import { startWorkers } from '../../jobs/worker-factory';
import type { QueueName } from '../../src/queues/queues';
import { apiClient, randomCard, randomMobile, randomNik } from './api';
import { freePort, startApp, testDb, testRuntime } from './context';

/** POSTs a body signed as the partner or the gateway would (override parts to forge). */
export async function signedPost(
  baseUrl: string,
  path: string,
  body: unknown,
  secret: string,
  opts: { timestamp?: number; signature?: string; raw?: string } = {},
) {
  const raw = opts.raw ?? JSON.stringify(body);
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Timestamp': ts,
      'X-Signature': opts.signature ?? signPayload(secret, ts, raw),
    },
    body: raw,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A valid loan of seed item 9 (bullet, 30 days) with a fresh creditorNo. */
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
 * An investor made straight in the database (faster than the HTTP on-boarding, which has its
 * own tests): optionally KYC-verified, with a card ending `cardLast4`, and a funded wallet.
 */
export async function makeInvestor(
  rt: Runtime,
  opts: {
    kyc?: boolean;
    card?: boolean;
    cardLast4?: string;
    nikSerial?: string;
    wallet?: bigint;
  } = {},
) {
  const user = await User.create({
    role: UserRole.Investor,
    mobile: randomMobile(),
    kycStatus: opts.kyc === false ? KycStatus.None : KycStatus.Verified,
  });
  const userId = String(user.id);
  if (opts.kyc !== false) {
    const nik = randomNik(opts.nikSerial);
    await KycVerification.create({
      userId,
      realName: 'Test Investor',
      nikEncrypted: rt.cipher.encrypt(nik),
      nikHash: rt.cipher.lookupHash(nik),
      nikLast4: nik.slice(-4),
      status: KycStatus.Verified,
      verifiedBy: 'provider',
    });
  }
  if (opts.card !== false) {
    const cardNo = randomCard('455633', opts.cardLast4);
    await BankCard.create({
      userId,
      bankCode: 'BCA',
      cardEncrypted: rt.cipher.encrypt(cardNo),
      cardHash: rt.cipher.lookupHash(cardNo),
      cardLast4: cardNo.slice(-4),
      status: 'active',
    });
  }
  if (opts.wallet) {
    await withTransaction(testDb(), (transaction) =>
      postTransaction(
        {
          kind: LedgerKind.Recharge,
          idempotencyKey: `test-fund-${userId}`,
          entries: [
            { account: platformAccount(AccountType.Escrow), amount: -opts.wallet! },
            { account: investorAccount(userId, 'available'), amount: opts.wallet! },
          ],
        },
        { transaction },
      ),
    );
  }
  const token = await rt.sessions.create(userId, 'investor', 3600);
  return { userId, token };
}

/**
 * A market under test: a runtime whose sandbox gateway calls back this app, the app on a free
 * port, and in-process workers for the given queues. `stop` closes workers and app.
 */
export async function startMarket(
  name: string,
  opts: { queues: QueueName[]; gateway?: Partial<Config['gateway']>; overrides?: Partial<Config> },
) {
  const port = await freePort();
  const base = testRuntime.defaults();
  const rt = testRuntime(name, {
    gateway: {
      ...base.gateway,
      sandboxDelayMs: 20,
      sandboxCallbackUrl: `http://127.0.0.1:${port}/callbacks/v1/payments`,
      ...opts.gateway,
    },
    ...opts.overrides,
  });
  const app = await startApp(rt, [], port);
  const pool = startWorkers(rt, PROCESSORS, { queues: opts.queues });
  return {
    rt,
    url: app.url,
    api: apiClient(app.url),
    stop: async () => {
      await pool.close();
      await app.close();
    },
  };
}
