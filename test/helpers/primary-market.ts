import { expect } from 'chai';
import { setClock } from '../../src/lib/clock';
import { accountCode, investorAccount } from '../../src/modules/ledger/ledger.accounts';
import { getBalances } from '../../src/modules/ledger/ledger.service';
import { Order } from '../../src/modules/orders/order.model';
import { PaymentInstruction } from '../../src/modules/payments/payment.model';
import { QueueName } from '../../src/queues/queues';
import type { Api } from './api';
import { eventually } from './api';
import type { testRuntime } from './context';
import { loanBody, makeInvestor, signedPost, startMarket } from './market';

/*
 * The primary-market test files' shared market: loans, orders and payments workers, a sandbox
 * gateway whose silent cards answer after 300 ms, a 60 s lock and a 50 M investor limit. Each
 * file calls usePrimaryMarket() in its root describe; the bindings below are live.
 */
export let rt: ReturnType<typeof testRuntime>;
export let api: Api;
export let url: string;
let stop: () => Promise<void>;

export const partnerSecret = () => rt.config.partner.secret;
export const gatewaySecret = () => rt.config.gateway.secret;

/** Starts the market before the file's tests and stops it after; the clock goes back after each. */
export function usePrimaryMarket(name: string): void {
  before(async () => {
    ({ rt, url, api, stop } = await startMarket(name, {
      queues: [QueueName.Loans, QueueName.Orders, QueueName.Payments],
      gateway: { sandboxUnknownMs: 300 },
      overrides: { investorLimitAmount: 50_000_000n, lockTtlSeconds: 60 },
    }));
  });
  after(async () => stop());
  afterEach(() => setClock());
}

/** The partner sends a loan (201). */
export async function newLoan(over: Record<string, unknown> = {}) {
  const body = loanBody(over);
  const res = await signedPost(url, '/partner/v1/loans', body, partnerSecret());
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return { body, loan: res.body };
}

export const order = async (id: string) => (await Order.findByPk(id))!;

/** The order once it reaches one of `statuses`. */
export async function settledOrder(
  id: string,
  statuses = ['paid', 'failed', 'rejected', 'expired', 'refunded'],
) {
  await eventually(async () => statuses.includes((await order(id)).status));
  return order(id);
}

/** One of an investor's balances, from the ledger. */
export const balance = async (userId: string, kind: 'available' | 'locked' | 'invested') =>
  (await getBalances([investorAccount(userId, kind)])).get(
    accountCode(investorAccount(userId, kind)),
  )!;

/** A card purchase on a silent card (…0119): the order waits with its collection submitted. */
export async function silentOrder(creditorNo: string, amount = 1_000_000) {
  const inv = await makeInvestor(rt, { cardLast4: '0119' });
  const res = await api.post(
    '/api/v1/orders',
    { creditorNo, amount, payWith: 'card' },
    { token: inv.token },
  );
  await eventually(
    async () =>
      (await PaymentInstruction.findOne({
        where: { purpose: 'order', refId: res.body.id, status: 'submitted' },
      })) !== null,
  );
  return {
    inv,
    orderId: res.body.id as string,
    instr: (await PaymentInstruction.findOne({
      where: { purpose: 'order', refId: res.body.id },
    }))!,
  };
}
