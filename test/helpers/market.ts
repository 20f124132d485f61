import { randomUUID } from 'node:crypto';
import { signPayload } from '../../src/lib/crypto';
import { withTransaction } from '../../src/lib/db';
import {
  AccountType,
  investorAccount,
  platformAccount,
} from '../../src/modules/ledger/ledger.accounts';
import { LedgerKind } from '../../src/modules/ledger/ledger.kinds';
import { postTransaction } from '../../src/modules/ledger/ledger.service';
import type { Runtime } from '../../src/runtime';
import type { Config } from '../../config';
import { PROCESSORS } from '../../jobs/processors';
import { startWorkers } from '../../jobs/worker-factory';
import type { QueueName } from '../../src/queues/queues';
import { nowMs, setClock } from '../../src/lib/clock';
import { Loan } from '../../src/modules/loans/loan.model';
import { Order } from '../../src/modules/orders/order.model';
import { Repayment } from '../../src/modules/repayments/repayment.model';
import { RepaymentPlan } from '../../src/modules/schedules/schedule.model';
import { settleLoan } from '../../src/modules/settlement/settlement.service';
import { apiClient, eventually } from './api';
import { checkContract, isWatched } from './contract';
import { insertInvestor, loanBody } from './fixtures';
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
  const parsed = text ? JSON.parse(text) : undefined;
  if (!isWatched(baseUrl)) checkContract('POST', path, res, parsed);
  return { status: res.status, body: parsed };
}

export { loanBody } from './fixtures';

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
  const userId = await insertInvestor(rt.cipher, opts);
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
  // Sessions expire on the clock when idle for their TTL: tests that move the clock by months
  // keep theirs for a year.
  const token = await rt.sessions.create(userId, 'investor', 365 * 86_400);
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

/** A running market as startMarket returns it. */
export type Market = Awaited<ReturnType<typeof startMarket>>;

/** Partner-signed POST and GET against a market. */
export function partnerOf(m: Pick<Market, 'url' | 'rt'>) {
  return {
    post: (path: string, body: unknown) =>
      signedPost(m.url, path, body, m.rt.config.partner.secret),
    get: async (path: string) => {
      const ts = String(Math.floor(Date.now() / 1000));
      const res = await fetch(`${m.url}${path}`, {
        headers: {
          'X-Timestamp': ts,
          'X-Signature': signPayload(m.rt.config.partner.secret, ts, ''),
        },
      });
      const body = (await res.json()) as Record<string, any>;
      if (!isWatched(m.url)) checkContract('GET', path, res, body);
      return { status: res.status, body };
    },
  };
}

/**
 * A disbursed loan: the partner sends it, investors buy the given amounts (wallet or card),
 * the deadline passes and settlement runs (the super investor tops up the rest), and the
 * disbursement succeeds. Needs the orders, payments and loans queues running.
 */
export async function disbursedLoan(
  m: Market,
  over: Record<string, unknown>,
  buys: { amount: number; pay?: 'wallet' | 'card'; investor?: { userId: string; token: string } }[],
) {
  const body = loanBody(over);
  const intake = await partnerOf(m).post('/partner/v1/loans', body);
  if (intake.status !== 201) throw new Error(`loan intake: ${intake.status}`);
  const investors: { userId: string; token: string }[] = [];
  for (const b of buys) {
    const pay = b.pay ?? 'wallet';
    const inv =
      b.investor ??
      (await makeInvestor(
        m.rt,
        pay === 'wallet' ? { wallet: BigInt(b.amount) } : { cardLast4: '5555' },
      ));
    const res = await m.api.post(
      '/api/v1/orders',
      { creditorNo: body.creditorNo, amount: b.amount, payWith: pay },
      { token: inv.token },
    );
    await eventually(async () => (await Order.findByPk(res.body.id))!.status === 'paid');
    investors.push(inv);
  }
  const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
  if (loan.status === 'open') {
    // Settle at the deadline: the clock goes there for the settlement, then back.
    const offset = nowMs() - Date.now();
    setClock({ offsetMs: Math.max(offset, loan.deadline.getTime() + 1000 - Date.now()) });
    try {
      await settleLoan({ config: m.rt.config }, loan.id);
    } finally {
      setClock({ offsetMs: offset });
    }
  }
  await eventually(async () => (await loan.reload()).status === 'repaying', 15_000);
  return { body, loan, investors };
}

/**
 * The partner reports a repayment of a loan's `period` at the plan's figures (`over` changes
 * any field, e.g. `payoff`, `principal`); returns its repaymentNo.
 */
export async function reportRepayment(
  m: Pick<Market, 'url' | 'rt'>,
  loan: { id: string; creditorNo: string },
  period: number,
  over: Record<string, unknown> = {},
): Promise<string> {
  const plan = (await RepaymentPlan.findOne({ where: { loanId: loan.id, period } }))!;
  const body = {
    creditorNo: loan.creditorNo,
    period,
    repaymentNo: `R-${randomUUID().slice(0, 13)}`,
    principal: Number(plan.principal),
    interest: Number(plan.interest),
    lateFee: 0,
    overdueServiceFee: 0,
    paidAt: new Date().toISOString(),
    ...over,
  };
  const res = await partnerOf(m).post('/partner/v1/repayments', body);
  if (res.status !== 201) throw new Error(`repayment: ${res.status} ${JSON.stringify(res.body)}`);
  return body.repaymentNo;
}

/** Waits until a repayment reaches one of `statuses` (cleared or held by default). */
export async function settledRepayment(
  repaymentNo: string,
  statuses: string[] = ['cleared', 'held'],
): Promise<Repayment> {
  const find = async () => (await Repayment.findOne({ where: { repaymentNo } }))!;
  await eventually(async () => statuses.includes((await find()).status));
  return find();
}
