import { expect } from 'chai';
import { jobIds } from '../../src/queues/job-ids';
import { advanceClock, setClock } from '../../src/lib/clock';
import sinon from 'sinon';
import { Borrower, Loan, LoanOriginal } from '../../src/modules/loans/loan.model';
import { accountCode, investorAccount } from '../../src/modules/ledger/ledger.accounts';
import { signPayload } from '../../src/lib/crypto';
import { checkLedger, getBalances } from '../../src/modules/ledger/ledger.service';
import { Asset } from '../../src/modules/assets/asset.model';
import { Order } from '../../src/modules/orders/order.model';
import { expireOrder, lockOrder } from '../../src/modules/orders/orders.service';
import { GatewayCallback, PaymentInstruction } from '../../src/modules/payments/payment.model';
import {
  acknowledge,
  applyCallback,
  queryInstruction,
  resolveHeldInstruction,
  submitInstruction,
  sweepInstructions,
} from '../../src/modules/payments/payments.service';
import { reconcile } from '../../src/modules/reconciliation/reconciliation.service';
import { Recharge, Withdrawal } from '../../src/modules/wallet/wallet.model';
import { QueueName } from '../../src/queues/queues';
import { eventually, type Api } from '../helpers/api';
import { testDb, testRuntime } from '../helpers/context';
import { loanBody, makeInvestor, signedPost, startMarket } from '../helpers/market';

describe('primary market, part 1', function () {
  this.timeout(30_000);
  let rt: ReturnType<typeof testRuntime>;
  let api: Api;
  let url: string;
  let stop: () => Promise<void>;
  const partnerSecret = () => rt.config.partner.secret;
  const gatewaySecret = () => rt.config.gateway.secret;

  before(async () => {
    ({ rt, url, api, stop } = await startMarket('market', {
      queues: [QueueName.Loans, QueueName.Orders, QueueName.Payments],
      gateway: { sandboxUnknownMs: 300 },
      overrides: { investorLimitAmount: 50_000_000n, lockTtlSeconds: 60 },
    }));
  });
  after(async () => stop());
  afterEach(() => setClock());

  async function newLoan(over: Record<string, unknown> = {}) {
    const body = loanBody(over);
    const res = await signedPost(url, '/partner/v1/loans', body, partnerSecret());
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return { body, loan: res.body };
  }
  const order = async (id: string) => (await Order.findByPk(id))!;
  async function settledOrder(
    id: string,
    statuses = ['paid', 'failed', 'rejected', 'expired', 'refunded'],
  ) {
    await eventually(async () => statuses.includes((await order(id)).status));
    return order(id);
  }
  const balance = async (userId: string, kind: 'available' | 'locked' | 'invested') =>
    (await getBalances([investorAccount(userId, kind)])).get(
      accountCode(investorAccount(userId, kind)),
    )!;

  describe('loan intake (partner)', () => {
    it('when the partner sends a loan, then the original record and the loan are stored, the borrower is fetched and settlement is scheduled', async () => {
      const { body, loan } = await newLoan();
      expect(loan).to.include({
        creditorNo: body.creditorNo,
        status: 'open',
        amountApply: 10_000_000,
        yearRateFin: '12.5000',
        availableAmount: 10_000_000,
        progress: 0,
      });
      const original = await LoanOriginal.findOne({ where: { creditorNo: body.creditorNo } });
      expect(JSON.stringify(original!.body)).to.not.contain(body.bankCardNo);
      await eventually(
        async () => (await Borrower.count({ where: { borrowerId: body.borrowerId } })) === 1,
      );
      const detail = await api.get(`/api/v1/loans/${body.creditorNo}`);
      expect(detail.body.borrower.name).to.match(/^\w\*+ \w\*+$/);
      // No NIK or card number (16 digits) outside the loan's own number, which may be all digits.
      expect(JSON.stringify(detail.body).replaceAll(body.creditorNo, '')).to.not.match(/\d{16}/);
      const [rows] = (await testDb().query(
        `SELECT run_at FROM outbox WHERE job_name = 'loan.settle' AND payload->>'loanId' = $1`,
        {
          bind: [String((await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!.id)],
        },
      )) as [{ run_at: Date }[], unknown];
      expect(rows[0].run_at.getTime()).to.equal(
        new Date(body.publishedAt).getTime() + rt.config.settlementDelaySeconds * 1000,
      );
    });

    it('when the same loan comes twice, then it is one loan; another body under the same creditorNo is 409', async () => {
      const body = loanBody();
      const ts = Math.floor(Date.now() / 1000);
      expect(
        (await signedPost(url, '/partner/v1/loans', body, partnerSecret(), { timestamp: ts }))
          .status,
      ).to.equal(201);
      // A partner retry is signed again (another timestamp), so it is no replay.
      const again = await signedPost(url, '/partner/v1/loans', body, partnerSecret(), {
        timestamp: ts - 5,
      });
      expect(again.status).to.equal(200);
      expect(await Loan.count({ where: { creditorNo: body.creditorNo } })).to.equal(1);
      const other = await signedPost(
        url,
        '/partner/v1/loans',
        { ...body, amountApply: 20_000_000 },
        partnerSecret(),
      );
      expect(other.status).to.equal(409);
      expect(other.body.error.code).to.equal('LOAN_CONFLICT');
    });

    it('when the signature is forged or stale, then 401 and nothing is stored; a replay gets the first answer', async () => {
      const body = loanBody();
      const forged = await signedPost(url, '/partner/v1/loans', body, 'not-the-partner-secret');
      const stale = await signedPost(url, '/partner/v1/loans', body, partnerSecret(), {
        timestamp: Math.floor(Date.now() / 1000) - 301,
      });
      const gatewaySigned = await signedPost(url, '/partner/v1/loans', body, gatewaySecret());
      for (const r of [forged, stale, gatewaySigned]) {
        expect(r.status).to.equal(401);
        expect(r.body.error.code).to.equal('INVALID_SIGNATURE');
      }
      expect(await LoanOriginal.count({ where: { creditorNo: body.creditorNo } })).to.equal(0);
      const ts = Math.floor(Date.now() / 1000);
      const first = await signedPost(url, '/partner/v1/loans', body, partnerSecret(), {
        timestamp: ts,
      });
      expect(first.status).to.equal(201);
      const replay = await signedPost(url, '/partner/v1/loans', body, partnerSecret(), {
        timestamp: ts,
      });
      expect(replay).to.deep.equal(first);
      expect(await Loan.count({ where: { creditorNo: body.creditorNo } })).to.equal(1);
    });

    it('when the partner resends the very same signed loan (a retry after a timeout), then it gets the first answer again (201, same body) and there is one loan', async () => {
      const body = loanBody();
      const raw = JSON.stringify(body);
      const ts = Math.floor(Date.now() / 1000);
      const send = () =>
        fetch(`${url}/partner/v1/loans`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'X-Timestamp': String(ts),
            'X-Signature': signPayload(partnerSecret(), ts, raw),
          },
          body: raw,
        });
      const first = await send();
      const firstBody = await first.json();
      expect(first.status).to.equal(201);
      expect(first.headers.get('idempotent-replayed')).to.equal(null);
      for (let i = 0; i < 2; i++) {
        const again = await send();
        expect(again.status).to.equal(201);
        expect(again.headers.get('idempotent-replayed')).to.equal('true');
        expect(await again.json()).to.deep.equal(firstBody);
      }
      expect(await Loan.count({ where: { creditorNo: body.creditorNo } })).to.equal(1);
      expect(await LoanOriginal.count({ where: { creditorNo: body.creditorNo } })).to.equal(1);
      // Signed again (a new timestamp), the same loan is answered fresh: 200, still one loan.
      const resigned = await signedPost(url, '/partner/v1/loans', body, partnerSecret(), {
        timestamp: ts - 1,
      });
      expect(resigned.status).to.equal(200);
      expect(resigned.body.creditorNo).to.equal(body.creditorNo);
      expect(await Loan.count({ where: { creditorNo: body.creditorNo } })).to.equal(1);
    });

    it('when fields are missing or inconsistent, then 400 naming them', async () => {
      const res = await signedPost(
        url,
        '/partner/v1/loans',
        loanBody({
          termUnit: 'day',
          repaymentMethod: 'equal_installment',
          yearRateFin: '12.12345',
          serviceFee: 20_000_000,
          extra: 1,
        }),
        partnerSecret(),
      );
      expect(res.status).to.equal(400);
      expect(
        [...new Set(res.body.error.details.map((d: { path: string }) => d.path))].sort(),
      ).to.deep.equal(['extra', 'repaymentMethod', 'serviceFee', 'yearRateFin']);
    });
  });

  describe('loan list', () => {
    it('when loans are listed with filters, then only open loans in range come back, sorted and paged', async () => {
      const tag = `${Date.now()}`;
      await newLoan({
        yearRateFin: '9.1',
        amountApply: 3_000_000,
        serviceFee: 0,
        term: 14,
        loanPurpose: tag,
      });
      await newLoan({
        yearRateFin: '9.3',
        amountApply: 4_000_000,
        serviceFee: 0,
        term: 21,
        loanPurpose: tag,
      });
      await newLoan({
        yearRateFin: '9.2',
        amountApply: 5_000_000,
        serviceFee: 0,
        term: 60,
        loanPurpose: tag,
      });
      const res = await api.get(
        '/api/v1/loans?minYearRateFin=9.1&maxYearRateFin=9.3&minTerm=10&maxTerm=30&sort=yearRateFin&order=asc&pageSize=100',
      );
      expect(res.status).to.equal(200);
      const mine = res.body.items.filter((l: { loanPurpose: string }) => l.loanPurpose === tag);
      expect(mine.map((l: { yearRateFin: string }) => l.yearRateFin)).to.deep.equal([
        '9.1000',
        '9.3000',
      ]);
      const amount = await api.get(
        '/api/v1/loans?minAmountApply=4000000&maxAmountApply=4000000&pageSize=100',
      );
      expect(
        amount.body.items.every((l: { amountApply: number }) => l.amountApply === 4_000_000),
      ).to.equal(true);
      const bad = await api.get('/api/v1/loans?minYearRateFin=abc&pageSize=0');
      expect(bad.status).to.equal(400);
    });
  });

  describe('purchase', () => {
    it('when an investor buys from the wallet, then the order is paid, the share bought, the asset created and the ledger moved', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { wallet: 2_000_000n });
      const res = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_500_000, payWith: 'wallet' },
        { token: inv.token },
      );
      expect(res.status).to.equal(202);
      expect(res.body.status).to.equal('pending');
      const o = await settledOrder(res.body.id);
      expect(o.status).to.equal('paid');
      const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
      expect([loan.lockedAmount, loan.boughtAmount]).to.deep.equal([0n, 1_500_000n]);
      expect((await Asset.findOne({ where: { orderId: o.id } }))!.principal).to.equal(1_500_000n);
      expect(await balance(inv.userId, 'available')).to.equal(500_000n);
      expect(await balance(inv.userId, 'invested')).to.equal(1_500_000n);
      const view = await api.get(`/api/v1/orders/${o.id}`, { token: inv.token });
      expect(view.body).to.include({
        status: 'paid',
        amount: 1_500_000,
        payWith: 'wallet',
        creditorNo: body.creditorNo,
      });
      const acc = await api.get('/api/v1/me/account', { token: inv.token });
      expect(acc.body).to.include({
        sanbiaoBalance: 1_500_000,
        availableBalance: 500_000,
        lockedBalance: 0,
      });
      const list = await api.get('/api/v1/me/orders?status=1', { token: inv.token });
      expect(list.body.items[0]).to.include({
        creditorNo: body.creditorNo,
        amountBuy: 1_500_000,
        status: 1,
        productType: 1,
        term: 30,
      });
      expect(
        (await api.get('/api/v1/me/orders?status=2', { token: inv.token })).body.total,
      ).to.equal(0);
      expect(
        (await api.get('/api/v1/me/orders?productType=2', { token: inv.token })).body.total,
      ).to.equal(0);
    });

    it('when an investor pays by card, then the sandbox collects, calls back signed, and the order is paid with the money in escrow', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { cardLast4: '1234' });
      const res = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'card' },
        { token: inv.token },
      );
      const o = await settledOrder(res.body.id);
      expect(o.status).to.equal('paid');
      const instr = (await PaymentInstruction.findOne({
        where: { purpose: 'order', refId: o.id },
      }))!;
      expect(instr.status).to.equal('succeeded');
      expect(await GatewayCallback.count({ where: { instructionId: instr.id } })).to.equal(1);
      expect(await balance(inv.userId, 'invested')).to.equal(1_000_000n);
    });

    it('when the card is declined (…0002), then the order fails with the reason and the share is released', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { cardLast4: '0002' });
      const res = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'card' },
        { token: inv.token },
      );
      const o = await settledOrder(res.body.id);
      expect(o.status).to.equal('failed');
      expect(o.failCode).to.equal('PAYMENT_FAILED');
      expect(o.failReason).to.contain('declined');
      const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
      expect([loan.lockedAmount, loan.boughtAmount]).to.deep.equal([0n, 0n]);
      expect(await balance(inv.userId, 'invested')).to.equal(0n);
    });

    it('when the card is silent (…0119), then the order waits; the status query resolves it once the gateway knows', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { cardLast4: '0119' });
      const res = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'card' },
        { token: inv.token },
      );
      await eventually(
        async () =>
          (await PaymentInstruction.findOne({
            where: { purpose: 'order', refId: res.body.id, status: 'submitted' },
          })) !== null,
      );
      const instr = (await PaymentInstruction.findOne({
        where: { purpose: 'order', refId: res.body.id },
      }))!;
      expect(
        await queryInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, String(instr.id)),
      ).to.equal('still pending');
      expect((await instr.reload()).status).to.equal('unknown');
      expect((await order(res.body.id)).status).to.equal('paying');
      await new Promise((r) => setTimeout(r, 350));
      expect(
        await queryInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, String(instr.id)),
      ).to.equal('order paid');
      expect((await order(res.body.id)).status).to.equal('paid');
    });

    for (const [label, setup, amount, code] of [
      ['KYC is not verified', { kyc: false }, 1_000_000, 'KYC_NOT_VERIFIED'],
      ['no card is bound', { card: false }, 1_000_000, 'NO_BANK_CARD'],
      [
        'the investor has a loan at the partner (NIK …9999)',
        { nikSerial: '9999' },
        1_000_000,
        'HAS_PARTNER_LOAN',
      ],
      ['the amount is below the minimum', {}, 50_000, 'AMOUNT_TOO_SMALL'],
      ['the amount is not a multiple of the step', {}, 150_001, 'AMOUNT_NOT_STEP'],
      ['the investor limit would be exceeded', {}, 60_000_000, 'OVER_LIMIT'],
      ['the loan has not enough room', {}, 10_100_000, 'NOT_ENOUGH_ROOM'],
      [
        'the wallet is short',
        { wallet: 100_000n, pay: 'wallet' },
        1_000_000,
        'INSUFFICIENT_BALANCE',
      ],
    ] as const) {
      it(`when ${label}, then the order is rejected with ${code} and nothing is reserved`, async () => {
        const { body } = await newLoan({
          amountApply: code === 'OVER_LIMIT' ? 100_000_000 : 10_000_000,
        });
        const inv = await makeInvestor(rt, setup as Parameters<typeof makeInvestor>[1]);
        const payWith = (setup as { pay?: string }).pay ?? 'card';
        const res = await api.post(
          '/api/v1/orders',
          { creditorNo: body.creditorNo, amount, payWith },
          { token: inv.token },
        );
        expect(res.status).to.equal(202);
        const o = await settledOrder(res.body.id);
        expect(o.status).to.equal('rejected');
        expect(o.failCode).to.equal(code);
        expect(o.failReason).to.be.a('string');
        const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
        expect([loan.lockedAmount, loan.boughtAmount]).to.deep.equal([0n, 0n]);
        expect(
          await PaymentInstruction.count({ where: { purpose: 'order', refId: o.id } }),
        ).to.equal(0);
      });
    }

    it('when the same Idempotency-Key and body are posted twice, then one order; another body is 409', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { wallet: 5_000_000n });
      const headers = { 'Idempotency-Key': 'buy-1' };
      const a = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'wallet' },
        { token: inv.token, headers },
      );
      const b = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'wallet' },
        { token: inv.token, headers },
      );
      expect(b.body.id).to.equal(a.body.id);
      const c = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 2_000_000, payWith: 'wallet' },
        { token: inv.token, headers },
      );
      expect(c.status).to.equal(409);
      await settledOrder(a.body.id);
      expect(await Order.count({ where: { userId: inv.userId } })).to.equal(1);
    });

    it('when another investor asks for an order, then 404', async () => {
      const { body } = await newLoan();
      const a = await makeInvestor(rt, { wallet: 1_000_000n });
      const b = await makeInvestor(rt);
      const res = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'wallet' },
        { token: a.token },
      );
      expect((await api.get(`/api/v1/orders/${res.body.id}`, { token: b.token })).status).to.equal(
        404,
      );
    });
  });

  describe('lock expiry and late payments', () => {
    async function silentOrder(creditorNo: string, amount = 1_000_000) {
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
    // The clock goes past the lock's expiry for the expiry job, then back.
    const expireNow = async (orderId: string) => {
      const expiresAt = (await order(orderId)).lockExpiresAt!.getTime();
      setClock({ offsetMs: expiresAt + 1_000 - Date.now() });
      try {
        return await expireOrder(orderId);
      } finally {
        setClock();
      }
    };

    it('when the lock expires, then the share is released once and the order is expired', async () => {
      const { body } = await newLoan();
      const { orderId } = await silentOrder(body.creditorNo);
      expect(
        (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!.lockedAmount,
      ).to.equal(1_000_000n);
      expect(await expireNow(orderId)).to.equal('expired');
      expect(await expireOrder(orderId)).to.equal('already expired');
      const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
      expect(loan.lockedAmount).to.equal(0n);
      expect((await order(orderId)).failCode).to.equal('LOCK_EXPIRED');
    });

    it('when an expired lock is not due yet, then the job refuses (and is retried later)', async () => {
      const { body } = await newLoan();
      const { orderId } = await silentOrder(body.creditorNo);
      let err: Error | undefined;
      await expireOrder(orderId).catch((e) => (err = e));
      expect(err?.message).to.contain('not expired yet');
      expect((await order(orderId)).status).to.equal('paying');
    });

    it('when the payment succeeds after expiry and the loan has room, then the order is re-locked and paid', async () => {
      const { body } = await newLoan();
      const { orderId, instr, inv } = await silentOrder(body.creditorNo);
      await expireNow(orderId);
      await new Promise((r) => setTimeout(r, 350));
      expect(
        await queryInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, String(instr.id)),
      ).to.contain('re-locked');
      expect((await order(orderId)).status).to.equal('paid');
      expect(
        (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!.boughtAmount,
      ).to.equal(1_000_000n);
      expect(await balance(inv.userId, 'invested')).to.equal(1_000_000n);
    });

    it('when the payment succeeds after expiry and the loan is sold out, then the money is refunded to the card', async () => {
      const { body } = await newLoan({ amountApply: 1_000_000, serviceFee: 0 });
      const { orderId, instr, inv } = await silentOrder(body.creditorNo);
      await expireNow(orderId);
      const buyer = await makeInvestor(rt, { wallet: 1_000_000n });
      const taken = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'wallet' },
        { token: buyer.token },
      );
      expect((await settledOrder(taken.body.id)).status).to.equal('paid');
      await new Promise((r) => setTimeout(r, 350));
      expect(
        await queryInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, String(instr.id)),
      ).to.contain('refunding');
      expect((await order(orderId)).status).to.equal('refunding');
      expect(await balance(inv.userId, 'locked')).to.equal(1_000_000n);
      // The refund payout goes back to the same silent card: resolve it by query too.
      const refund = (await PaymentInstruction.findOne({
        where: { purpose: 'refund', refId: orderId },
      }))!;
      await eventually(async () => (await refund.reload()).status === 'submitted');
      await new Promise((r) => setTimeout(r, 350));
      await queryInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, String(refund.id));
      expect((await order(orderId)).status).to.equal('refunded');
      expect(await balance(inv.userId, 'locked')).to.equal(0n);
      const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
      expect([loan.lockedAmount, loan.boughtAmount]).to.deep.equal([0n, 1_000_000n]);
    });
  });

  describe('gateway callbacks', () => {
    async function pendingCardOrder() {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { cardLast4: '0119' });
      const res = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'card' },
        { token: inv.token },
      );
      await eventually(
        async () =>
          (await PaymentInstruction.findOne({
            where: { purpose: 'order', refId: res.body.id, status: 'submitted' },
          })) !== null,
      );
      const instr = (await PaymentInstruction.findOne({
        where: { purpose: 'order', refId: res.body.id },
      }))!;
      return { inv, orderId: res.body.id as string, instr, creditorNo: body.creditorNo };
    }
    const callback = (
      instr: PaymentInstruction,
      status: 'success' | 'failed',
      ts: number,
      amount = 1_000_000,
    ) =>
      signedPost(
        url,
        '/callbacks/v1/payments',
        {
          instructionId: String(instr.id),
          gatewayTxnId: `T${instr.id}`,
          status,
          amount,
          ...(status === 'failed' ? { failReason: 'insufficient funds' } : {}),
        },
        gatewaySecret(),
        { timestamp: ts },
      );

    it('when the same success callback arrives 10 times, then it has one effect', async () => {
      const { orderId, instr, inv } = await pendingCardOrder();
      const now = Math.floor(Date.now() / 1000);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, k) => callback(instr, 'success', now - k)),
      );
      expect(results.every((r) => r.status === 200)).to.equal(true);
      await eventually(async () => (await order(orderId)).status === 'paid');
      await eventually(async () =>
        (await GatewayCallback.findAll({ where: { instructionId: instr.id } })).every(
          (c) => c.processedAt !== null,
        ),
      );
      const outcomes = (await GatewayCallback.findAll({ where: { instructionId: instr.id } })).map(
        (c) => c.outcome,
      );
      expect(outcomes.filter((o) => o === 'order paid')).to.have.length(1);
      expect(outcomes.filter((o) => o === 'duplicate')).to.have.length(9);
      expect(await balance(inv.userId, 'invested')).to.equal(1_000_000n);
      expect(await Asset.count({ where: { orderId } })).to.equal(1);
    });

    it('when a failure and then a success arrive in reverse order, then the first applied wins and the other is recorded as a conflict', async () => {
      const { orderId, instr, creditorNo } = await pendingCardOrder();
      const now = Math.floor(Date.now() / 1000);
      expect((await callback(instr, 'success', now)).status).to.equal(200);
      await eventually(async () => (await order(orderId)).status === 'paid');
      expect((await callback(instr, 'failed', now - 5)).status).to.equal(200);
      await eventually(async () =>
        (await GatewayCallback.findAll({ where: { instructionId: instr.id } })).every(
          (c) => c.processedAt !== null,
        ),
      );
      const outcomes = (
        await GatewayCallback.findAll({
          where: { instructionId: instr.id },
          order: [['id', 'ASC']],
        })
      ).map((c) => c.outcome);
      expect(outcomes[1]).to.match(/^conflict/);
      expect((await order(orderId)).status).to.equal('paid');
      expect((await Loan.findOne({ where: { creditorNo } }))!.boughtAmount).to.equal(1_000_000n);
    });

    it('when a callback is forged or stale, then 401 and nothing is stored or changed; a replay gets the first answer and has no second effect', async () => {
      const { orderId, instr } = await pendingCardOrder();
      const body = {
        instructionId: String(instr.id),
        gatewayTxnId: 'X',
        status: 'success',
        amount: 1_000_000,
      };
      const forged = await signedPost(url, '/callbacks/v1/payments', body, partnerSecret());
      const stale = await signedPost(url, '/callbacks/v1/payments', body, gatewaySecret(), {
        timestamp: Math.floor(Date.now() / 1000) - 400,
      });
      const noSig = await signedPost(url, '/callbacks/v1/payments', body, gatewaySecret(), {
        signature: 'abc',
      });
      for (const r of [forged, stale, noSig]) expect(r.status).to.equal(401);
      const ts = Math.floor(Date.now() / 1000);
      expect(
        (
          await signedPost(
            url,
            '/callbacks/v1/payments',
            { ...body, status: 'failed' },
            gatewaySecret(),
            { timestamp: ts },
          )
        ).status,
      ).to.equal(200);
      await eventually(async () => (await order(orderId)).status === 'failed');
      const replay = await signedPost(
        url,
        '/callbacks/v1/payments',
        { ...body, status: 'failed' },
        gatewaySecret(),
        { timestamp: ts },
      );
      expect(replay).to.deep.equal({ status: 200, body: { received: true } });
      expect(await GatewayCallback.count({ where: { instructionId: instr.id } })).to.equal(1);
      expect((await order(orderId)).status).to.equal('failed');
    });

    it('when the amount does not match the instruction, then nothing is applied, the instruction is held and reconcile tells finance what to do', async () => {
      const { orderId, instr } = await pendingCardOrder();
      expect(
        (await callback(instr, 'success', Math.floor(Date.now() / 1000), 999)).status,
      ).to.equal(200);
      await eventually(async () =>
        (await GatewayCallback.findAll({ where: { instructionId: instr.id } })).every(
          (c) => c.processedAt !== null,
        ),
      );
      expect(
        (await GatewayCallback.findOne({ where: { instructionId: instr.id } }))!.outcome,
      ).to.match(/^amount mismatch/);
      expect((await order(orderId)).status).to.equal('paying');
      expect((await PaymentInstruction.findByPk(instr.id))!.status).to.equal('held');
      const creditorNo = (await order(orderId)).creditorNo;
      const listed = await reconcile(testDb(), { loans: [creditorNo] });
      expect(listed.map((m) => m.check)).to.include.members([
        'instruction.held',
        'callback.not_applied',
      ]);
      expect(listed.find((m) => m.check === 'instruction.held')!.action).to.contain(
        `finance instruction:resolve ${instr.id}`,
      );
      // Finance checks with the gateway and applies the right reading; then acknowledges.
      expect(await resolveHeldInstruction(String(instr.id), 'success')).to.equal('order paid');
      const cb = (await GatewayCallback.findOne({ where: { instructionId: instr.id } }))!;
      await acknowledge('callback', String(cb.id), 'test');
      expect(await reconcile(testDb(), { loans: [creditorNo] })).to.deep.equal([]);
    });

    it('when the reconciliation crashes after its first write and runs again, then the effect is applied once', async () => {
      const { orderId, instr, inv } = await pendingCardOrder();
      await rt.queues.get(QueueName.Payments)!.pause();
      try {
        expect((await callback(instr, 'success', Math.floor(Date.now() / 1000))).status).to.equal(
          200,
        );
        const cb = (await GatewayCallback.findOne({ where: { instructionId: instr.id } }))!;
        const crash = sinon
          .stub(GatewayCallback.prototype, 'update')
          .rejects(new Error('worker died'));
        await applyCallback(String(cb.id)).catch(() => undefined);
        crash.restore();
        expect((await order(orderId)).status).to.equal('paying');
        expect(await balance(inv.userId, 'invested')).to.equal(0n);
        expect(await applyCallback(String(cb.id))).to.equal('order paid');
        expect(await applyCallback(String(cb.id))).to.equal('order paid');
        expect(await balance(inv.userId, 'invested')).to.equal(1_000_000n);
        expect(await Asset.count({ where: { orderId } })).to.equal(1);
      } finally {
        await rt.queues.get(QueueName.Payments)!.resume();
      }
    });
  });

  describe('crash safety and the sweeper', () => {
    it('when the lock job dies inside its transaction and runs again, then the share is reserved once', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { cardLast4: '0119' });
      await rt.queues.get(QueueName.Orders)!.pause();
      try {
        const res = await api.post(
          '/api/v1/orders',
          { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'card' },
          { token: inv.token },
        );
        const deps = { cipher: rt.cipher, partner: rt.ports.partner, config: rt.config };
        // Dies after the batch has written the order's move, before the instructions.
        const crash = sinon
          .stub(PaymentInstruction, 'bulkCreate')
          .rejects(new Error('worker died'));
        expect(await lockOrder(deps, res.body.id).catch((e: Error) => e.message)).to.equal(
          'worker died',
        );
        crash.restore();
        let loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
        expect(loan.lockedAmount).to.equal(0n);
        expect((await order(res.body.id)).status).to.equal('pending');
        expect(await lockOrder(deps, res.body.id)).to.equal('paying');
        expect(await lockOrder(deps, res.body.id)).to.equal('paying');
        loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
        expect(loan.lockedAmount).to.equal(1_000_000n);
        expect(
          await PaymentInstruction.count({ where: { purpose: 'order', refId: res.body.id } }),
        ).to.equal(1);
      } finally {
        await rt.queues.get(QueueName.Orders)!.resume();
      }
    });

    it('when instructions are due for a query or were never submitted, then the sweeper enqueues one job each', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { cardLast4: '0119' });
      // The gateway cannot be reached when the lock step hands the instruction over.
      const down = sinon.stub(rt.ports.gateway, 'submit').rejects(new Error('gateway down'));
      await rt.queues.get(QueueName.Payments)!.pause();
      try {
        const res = await api.post(
          '/api/v1/orders',
          { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'card' },
          { token: inv.token },
        );
        await eventually(
          async () =>
            (await PaymentInstruction.count({
              where: { purpose: 'order', refId: res.body.id },
            })) === 1,
        );
        await eventually(async () => down.called);
        down.restore();
        const instr = (await PaymentInstruction.findOne({
          where: { purpose: 'order', refId: res.body.id },
        }))!;
        expect(instr.status).to.equal('created');
        // Never handed over: with no grace left, the sweeper resubmits.
        expect(await sweepInstructions(rt.queues, 0)).to.be.greaterThan(0);
        await sweepInstructions(rt.queues, 0);
        const q = rt.queues.get(QueueName.Payments)!;
        expect(
          await q.getJob(jobIds.instructionResubmit(instr.id, instr.submitAttempts)),
        ).to.not.equal(undefined);
        // Submitted, silent (…0119): a minute later its status query is due.
        expect(
          await submitInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, instr.id),
        ).to.equal('submitted');
        await sweepInstructions(rt.queues, 120);
        expect(await q.getJob(jobIds.instructionQuery(instr.id, 0))).to.equal(undefined);
        advanceClock(61_000);
        await sweepInstructions(rt.queues, 120);
        expect(await q.getJob(jobIds.instructionQuery(instr.id, 0))).to.not.equal(undefined);
      } finally {
        down.restore();
        await rt.queues.get(QueueName.Payments)!.resume();
      }
    });
  });

  describe('wallet', () => {
    it('when an investor recharges and withdraws, then the wallet moves with each step and a failed payout returns the money', async () => {
      const inv = await makeInvestor(rt, { cardLast4: '4321' });
      const r = await api.post(
        '/api/v1/me/recharges',
        { amount: 3_000_000 },
        { token: inv.token, headers: { 'Idempotency-Key': 'r1' } },
      );
      expect(r.status).to.equal(202);
      const again = await api.post(
        '/api/v1/me/recharges',
        { amount: 3_000_000 },
        { token: inv.token, headers: { 'Idempotency-Key': 'r1' } },
      );
      expect(again.body.id).to.equal(r.body.id);
      await eventually(async () => (await Recharge.findByPk(r.body.id))!.status === 'succeeded');
      expect(await balance(inv.userId, 'available')).to.equal(3_000_000n);
      const w = await api.post(
        '/api/v1/me/withdrawals',
        { amount: 1_000_000 },
        { token: inv.token },
      );
      expect(w.status).to.equal(202);
      expect(await balance(inv.userId, 'locked')).to.equal(1_000_000n);
      await eventually(async () => (await Withdrawal.findByPk(w.body.id))!.status === 'succeeded');
      expect([
        await balance(inv.userId, 'available'),
        await balance(inv.userId, 'locked'),
      ]).to.deep.equal([2_000_000n, 0n]);
      const tooMuch = await api.post(
        '/api/v1/me/withdrawals',
        { amount: 5_000_000 },
        { token: inv.token },
      );
      expect(tooMuch.status).to.equal(422);
      expect(tooMuch.body.error.code).to.equal('INSUFFICIENT_BALANCE');
      expect(await Withdrawal.count({ where: { userId: inv.userId } })).to.equal(1);
    });

    it('when a withdrawal payout is declined (…0002), then the money stays locked until a status query confirms the decline, then returns to available', async () => {
      const inv = await makeInvestor(rt, { cardLast4: '0002', wallet: 1_000_000n });
      const w = await api.post('/api/v1/me/withdrawals', { amount: 400_000 }, { token: inv.token });
      const payout = async () =>
        (await PaymentInstruction.findOne({ where: { purpose: 'withdrawal', refId: w.body.id } }))!;
      await eventually(async () => (await payout()).status === 'declined');
      expect((await Withdrawal.findByPk(w.body.id))!.status).to.equal('pending');
      expect([
        await balance(inv.userId, 'available'),
        await balance(inv.userId, 'locked'),
      ]).to.deep.equal([600_000n, 400_000n]);
      expect(
        await queryInstruction(
          { gateway: rt.ports.gateway, cipher: rt.cipher },
          (await payout()).id,
        ),
      ).to.equal('withdrawal failed');
      expect((await Withdrawal.findByPk(w.body.id))!.status).to.equal('failed');
      expect([
        await balance(inv.userId, 'available'),
        await balance(inv.userId, 'locked'),
      ]).to.deep.equal([1_000_000n, 0n]);
    });

    it('when a recharge is declined, then it fails and the wallet is unchanged', async () => {
      const inv = await makeInvestor(rt, { cardLast4: '0002' });
      const r = await api.post('/api/v1/me/recharges', { amount: 500_000 }, { token: inv.token });
      await eventually(async () => (await Recharge.findByPk(r.body.id))!.status === 'failed');
      expect(await balance(inv.userId, 'available')).to.equal(0n);
    });
  });

  describe('at the end', () => {
    it('when everything above is done, then the ledger checks clean', async () => {
      const check = await checkLedger();
      expect(check.mismatches).to.deep.equal([]);
      expect(check.trialBalance).to.equal(0n);
      expect(check.ok).to.equal(true);
    });
  });
});
