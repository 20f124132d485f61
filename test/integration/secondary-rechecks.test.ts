import { expect } from 'chai';
import sinon from 'sinon';
import { setClock } from '../../src/lib/clock';
import type { GatewayInstruction } from '../../src/adapters/gateway';
import {
  accountCode,
  investorAccount,
  type AccountRef,
} from '../../src/modules/ledger/ledger.accounts';
import { checkLedger, getBalances } from '../../src/modules/ledger/ledger.service';
import { Asset } from '../../src/modules/assets/asset.model';
import { Order } from '../../src/modules/orders/order.model';
import { PaymentInstruction } from '../../src/modules/payments/payment.model';
import { reconcile } from '../../src/modules/reconciliation/reconciliation.service';
import { clearRepayment } from '../../src/modules/repayments/repayments.service';
import { RepaymentPlan, RepaymentSchedule } from '../../src/modules/schedules/schedule.model';
import { CreditNote } from '../../src/modules/transfers/credit-note.model';
import { CreditOrder } from '../../src/modules/transfers/credit-order.model';
import { confirmCreditOrder } from '../../src/modules/transfers/credit-order-confirmation.service';
import { QueueName } from '../../src/queues/queues';
import { eventually } from '../helpers/api';
import { testDb } from '../helpers/context';
import {
  disbursedLoan,
  loanBody,
  makeInvestor,
  partnerOf,
  reportRepayment,
  settledRepayment,
  signedPost,
  startMarket,
  type Market,
} from '../helpers/market';

const DAY = 86_400_000;

describe('the secondary market re-checks at every step', function () {
  this.timeout(60_000);
  let m: Market;

  before(async () => {
    m = await startMarket('rechecks', {
      queues: [QueueName.Orders, QueueName.Payments, QueueName.Loans, QueueName.Transfers],
      overrides: { investorLimitAmount: 8_000_000n },
    });
  });
  after(async () => m.stop());
  afterEach(() => {
    sinon.restore();
    setClock();
  });

  const bal = async (ref: AccountRef) => (await getBalances([ref])).get(accountCode(ref))!;
  const wallet = async (userId: string) => ({
    available: await bal(investorAccount(userId, 'available')),
    locked: await bal(investorAccount(userId, 'locked')),
    invested: await bal(investorAccount(userId, 'invested')),
  });
  const confirmDeps = () => ({
    partner: m.rt.ports.partner,
    cipher: m.rt.cipher,
    config: m.rt.config,
  });

  /**
   * A seller holding all of a 6,000,000 loan in 6 equal installments (18% / 12%), disbursed; the
   * clock five days on, so that its asset may be sold.
   */
  async function seller() {
    const { loan, investors } = await disbursedLoan(
      m,
      {
        amountApply: 6_000_000,
        serviceFee: 0,
        yearRateLoan: '18',
        yearRateFin: '12',
        term: 6,
        termUnit: 'month',
        repaymentMethod: 'equal_installment',
      },
      [{ amount: 6_000_000 }],
    );
    setClock({ offsetMs: 5 * DAY });
    const asset = (await Asset.findOne({ where: { loanId: loan.id } }))!;
    return { loan, asset, inv: investors[0] };
  }

  async function note(s: { inv: { token: string }; asset: Asset }, amount: number, rate = '0') {
    const res = await m.api.post(
      '/api/v1/credit-notes',
      { assetId: s.asset.id, amount, discountRate: rate },
      { token: s.inv.token },
    );
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.id as string;
  }

  async function order(token: string, noteId: string, principal: number) {
    const res = await m.api.post('/api/v1/credit-orders', { noteId, principal }, { token });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body.id as string;
  }

  const settled = async (id: string) => {
    await eventually(async () =>
      ['success', 'failed'].includes((await CreditOrder.findByPk(id))!.status),
    );
    return (await CreditOrder.findByPk(id))!;
  };

  /**
   * The custodian takes buyer payments (custody transfers of credit orders) but answers only when
   * released; everything else goes through the sandbox as usual.
   */
  function holdBuyerPayments() {
    const gateway = m.rt.ports.gateway;
    const held = new Set<string>();
    const submit = sinon.stub(gateway, 'submit').callsFake(async (i: GatewayInstruction) => {
      const row = await PaymentInstruction.findByPk(i.instructionId);
      if (row?.purpose === 'transfer') {
        held.add(i.instructionId);
        return { accepted: true, gatewayTxnId: `HELD-${i.instructionId}` };
      }
      return submit.wrappedMethod.call(gateway, i);
    });
    return {
      /** The custodian says the buyer of credit order `id` paid (a signed success callback). */
      async pay(creditOrderId: string) {
        const i = (await PaymentInstruction.findOne({
          where: { purpose: 'transfer', refId: creditOrderId },
        }))!;
        expect(held.has(String(i.id))).to.equal(true);
        const res = await signedPost(
          m.url,
          '/callbacks/v1/payments',
          {
            instructionId: String(i.id),
            gatewayTxnId: `HELD-${i.id}`,
            status: 'success',
            amount: Number(i.amount),
          },
          m.rt.config.gateway.secret,
        );
        expect(res.status).to.equal(200);
        await eventually(
          async () => (await CreditOrder.findByPk(creditOrderId))!.buyerPaymentStatus === 1,
        );
      },
    };
  }

  const paymentStarted = (id: string) =>
    eventually(async () => (await CreditOrder.findByPk(id))!.status === 'processing');

  async function expectSound(creditorNo: string) {
    expect((await checkLedger()).ok, 'ledger').to.equal(true);
    expect(await reconcile(testDb(), { loans: [creditorNo] })).to.deep.equal([]);
  }

  it('when two buyers race for a note’s last slice, then one gets it and the other fails before anything is paid', async () => {
    const s = await seller();
    const noteId = await note(s, 1_000_000);
    const buyers = [
      await makeInvestor(m.rt, { wallet: 2_000_000n }),
      await makeInvestor(m.rt, { wallet: 2_000_000n }),
    ];
    const ids = await Promise.all(buyers.map((b) => order(b.token, noteId, 1_000_000)));
    const done = await Promise.all(ids.map(settled));
    expect(done.map((o) => o.status).sort()).to.deep.equal(['failed', 'success']);
    const loser = done.find((o) => o.status === 'failed')!;
    expect(loser.failCode).to.equal('OVERBUY');
    expect(
      await PaymentInstruction.count({ where: { purpose: 'transfer', refId: loser.id } }),
    ).to.equal(0);
    const lost = buyers.find((b) => b.userId === String(loser.buyerId))!;
    expect(await wallet(lost.userId)).to.deep.equal({
      available: 2_000_000n,
      locked: 0n,
      invested: 0n,
    });
    await expectSound(s.loan.creditorNo);
  });

  it('when a note is cancelled while its order is being paid, then the order fails, the buyer’s money is back in the wallet and reversed at the custodian, and nothing changed hands', async () => {
    const s = await seller();
    const noteId = await note(s, 2_000_000);
    const buyer = await makeInvestor(m.rt, { wallet: 3_000_000n });
    const custodian = holdBuyerPayments();
    const id = await order(buyer.token, noteId, 1_000_000);
    await paymentStarted(id);
    expect((await wallet(buyer.userId)).locked > 0n).to.equal(true);
    expect((await CreditNote.findByPk(noteId))!.reservedAmount).to.equal(1_000_000n);
    const cancel = await m.api.call('DELETE', `/api/v1/credit-notes/${noteId}`, {
      token: s.inv.token,
    });
    expect(cancel.status).to.equal(200);
    await custodian.pay(id);
    const o = await settled(id);
    expect([o.status, o.failCode, o.buyerPaymentStatus]).to.deep.equal(['failed', 'NOTE_ENDED', 1]);
    expect(await wallet(buyer.userId)).to.deep.equal({
      available: 3_000_000n,
      locked: 0n,
      invested: 0n,
    });
    await eventually(
      async () =>
        (await PaymentInstruction.findOne({ where: { purpose: 'transfer_reversal', refId: id } }))
          ?.status === 'succeeded',
    );
    expect((await CreditNote.findByPk(noteId))!.reservedAmount).to.equal(0n);
    expect((await s.asset.reload()).principal).to.equal(6_000_000n);
    expect(s.asset.maxTradableAmount).to.equal(6_000_000n);
    await expectSound(s.loan.creditorNo);
  });

  it('when a repayment clears while a sale is being paid, then the priced period is gone: the order fails and the buyer’s money is released', async () => {
    const s = await seller();
    const noteId = await note(s, 2_000_000);
    const buyer = await makeInvestor(m.rt, { wallet: 3_000_000n });
    const custodian = holdBuyerPayments();
    const id = await order(buyer.token, noteId, 1_000_000);
    await paymentStarted(id);
    await settledRepayment(await reportRepayment(m, s.loan, 1), ['cleared']);
    await custodian.pay(id);
    const o = await settled(id);
    expect([o.status, o.failCode]).to.deep.equal(['failed', 'PERIOD_REPAID']);
    expect((await wallet(buyer.userId)).available).to.equal(3_000_000n);
    await expectSound(s.loan.creditorNo);
  });

  it('when a clearing and a sale’s settlement run at the same moment, then one waits for the other and every figure adds up either way', async () => {
    const s = await seller();
    const noteId = await note(s, 2_000_000);
    const buyer = await makeInvestor(m.rt, { wallet: 3_000_000n });
    const custodian = holdBuyerPayments();
    const id = await order(buyer.token, noteId, 1_000_000);
    await paymentStarted(id);
    const transfers = m.rt.queues.get(QueueName.Transfers)!;
    const loans = m.rt.queues.get(QueueName.Loans)!;
    await transfers.pause();
    await loans.pause();
    try {
      await custodian.pay(id);
      const r = await settledRepayment(await reportRepayment(m, s.loan, 1), ['arrived']);
      const [cleared, sold] = await Promise.all([
        clearRepayment(r.id),
        confirmCreditOrder(confirmDeps(), id),
      ]);
      expect(cleared).to.match(/^cleared/);
      expect(sold).to.be.oneOf(['success', 'failed: PERIOD_REPAID; buyer payment reversed']);
    } finally {
      await transfers.resume();
      await loans.resume();
    }
    await settled(id);
    await expectSound(s.loan.creditorNo);
  });

  it('when the loan is paid off while an order is being paid, then its notes close and the order fails with the buyer’s money released', async () => {
    const s = await seller();
    const noteId = await note(s, 2_000_000);
    const buyer = await makeInvestor(m.rt, { wallet: 3_000_000n });
    const custodian = holdBuyerPayments();
    const id = await order(buyer.token, noteId, 1_000_000);
    await paymentStarted(id);
    await reportRepayment(m, s.loan, 1, { principal: 6_000_000, payoff: true });
    await eventually(async () => (await s.loan.reload()).status === 'repaid');
    expect((await CreditNote.findByPk(noteId))!.status).to.equal('withdrawn');
    await custodian.pay(id);
    const o = await settled(id);
    expect(o.status).to.equal('failed');
    expect(o.failCode).to.be.oneOf(['NOTE_ENDED', 'LOAN_NOT_REPAYING']);
    expect(await wallet(buyer.userId)).to.deep.equal({
      available: 3_000_000n,
      locked: 0n,
      invested: 0n,
    });
    await expectSound(s.loan.creditorNo);
  });

  it('when a discount would leave the price at or below the fee, then the note and the order are refused with 422 DISCOUNT_TOO_HIGH, never a stuck order', async () => {
    const s = await seller();
    for (const path of ['/api/v1/credit-notes/calc', '/api/v1/credit-notes']) {
      const res = await m.api.post(
        path,
        { assetId: s.asset.id, amount: 1_000_000, discountRate: '99.6' },
        { token: s.inv.token },
      );
      expect([res.status, res.body.error?.code], path).to.deep.equal([422, 'DISCOUNT_TOO_HIGH']);
    }
    // 99.4% off still pays 0.6% against a 0.5% fee.
    const noteId = await note(s, 1_000_000, '99.4');
    const buyer = await makeInvestor(m.rt, { wallet: 100_000n });
    const o = await settled(await order(buyer.token, noteId, 1_000_000));
    expect(o.status).to.equal('success');
    expect(o.payAmount > o.fee).to.equal(true);
    await expectSound(s.loan.creditorNo);
  });

  it('when a buyer breaks an investor rule, then the order is refused as in the primary market: KYC, the limit (secondary assets count), an active loan at the partner', async () => {
    const s = await seller();
    const noteId = await note(s, 3_000_000);
    const noKyc = await makeInvestor(m.rt, { kyc: false, wallet: 1_000_000n });
    const kyc = await m.api.post(
      '/api/v1/credit-orders',
      { noteId, principal: 500_000 },
      { token: noKyc.token },
    );
    expect([kyc.status, kyc.body.error.code]).to.deep.equal([422, 'KYC_REQUIRED']);

    // The limit is 8,000,000 here: 7,000,000 bought in the primary market leaves room for 1,000,000.
    const big = await makeInvestor(m.rt, { wallet: 9_000_000n });
    setClock();
    await disbursedLoan(m, { amountApply: 7_000_000, serviceFee: 0 }, [
      { amount: 7_000_000, investor: big },
    ]);
    setClock({ offsetMs: 5 * DAY });
    const over = await m.api.post(
      '/api/v1/credit-orders',
      { noteId, principal: 1_100_000 },
      { token: big.token },
    );
    expect([over.status, over.body.error.code]).to.deep.equal([422, 'OVER_LIMIT']);
    const fits = await settled(await order(big.token, noteId, 1_000_000));
    expect(fits.status).to.equal('success');
    // The secondary asset counts towards the limit of a primary purchase too.
    setClock();
    const fresh = loanBody();
    expect((await partnerOf(m).post('/partner/v1/loans', fresh)).status).to.equal(201);
    const primary = await m.api.post(
      '/api/v1/orders',
      { creditorNo: fresh.creditorNo, amount: 100_000, payWith: 'wallet' },
      { token: big.token },
    );
    await eventually(async () => (await Order.findByPk(primary.body.id))!.status === 'rejected');
    expect((await Order.findByPk(primary.body.id))!.failCode).to.equal('OVER_LIMIT');
    setClock({ offsetMs: 5 * DAY });

    const borrower = await makeInvestor(m.rt, { nikSerial: '9999', wallet: 1_000_000n });
    const refused = await settled(await order(borrower.token, noteId, 500_000));
    expect([refused.status, refused.failCode]).to.deep.equal(['failed', 'HAS_PARTNER_LOAN']);
    expect(await wallet(borrower.userId)).to.deep.equal({
      available: 1_000_000n,
      locked: 0n,
      invested: 0n,
    });
    await expectSound(s.loan.creditorNo);
  });

  it('when an asset bought on the market is sold on, then the accrued interest runs from the loan’s interest start; the seller’s share is income, the buyer’s income excludes what it paid for; the list shows both', async () => {
    const s = await seller();
    const noteId = await note(s, 2_000_000);
    const b = await makeInvestor(m.rt, { wallet: 3_000_000n });
    const first = await settled(await order(b.token, noteId, 1_000_000));
    expect(first.status).to.equal('success');
    // Day 5 of the loan: 6 days of the first month's interest on 1,000,000 (1% = 10,000).
    const period = await RepaymentPlan.findOne({ where: { loanId: s.loan.id, period: 1 } });
    const start = Date.parse(`${s.asset.interestStart}T00:00:00Z`);
    const days = BigInt((Date.parse(`${period!.dueDate}T00:00:00Z`) - start) / DAY);
    expect(first.interest).to.equal((6n * 10_000n) / days);
    const sellerIncome = await m.api.get('/api/v1/me/account', { token: s.inv.token });
    expect(sellerIncome.body.totalIncome).to.equal(Number(first.interest));
    const buyerIncome = await m.api.get('/api/v1/me/account', { token: b.token });
    expect(buyerIncome.body.totalIncome).to.equal(-Number(first.interest));

    // Day 12: B (interest start day 6, held 3+ days) offers it all; a buyer owes 13 days.
    setClock({ offsetMs: 12 * DAY });
    const bAsset = (await Asset.findByPk(first.buyerAssetId!))!;
    const calc = await m.api.post(
      '/api/v1/credit-notes/calc',
      { assetId: bAsset.id, amount: 1_000_000 },
      { token: b.token },
    );
    expect(calc.status, JSON.stringify(calc.body)).to.equal(200);
    expect(calc.body.currentInterest).to.equal(Number((13n * 10_000n) / days));
    const resale = await m.api.post(
      '/api/v1/credit-notes',
      { assetId: bAsset.id, amount: 1_000_000 },
      { token: b.token },
    );
    const c = await makeInvestor(m.rt, { wallet: 2_000_000n });
    const second = await settled(await order(c.token, resale.body.id, 1_000_000));
    expect(second.status).to.equal('success');
    expect((await bAsset.reload()).status).to.equal('transferred');

    const listB = await m.api.get('/api/v1/me/orders', { token: b.token });
    expect(listB.body.items).to.have.length(1);
    expect(listB.body.items[0]).to.include({
      id: String(first.id),
      market: 'secondary',
      creditorNo: s.loan.creditorNo,
      amountBuy: 1_000_000,
      status: 2,
      income: Number(second.interest - first.interest),
    });
    const listC = await m.api.get('/api/v1/me/orders?status=1', { token: c.token });
    expect(listC.body.items.map((x: { market: string }) => x.market)).to.deep.equal(['secondary']);
    const listS = await m.api.get('/api/v1/me/orders', { token: s.inv.token });
    expect(listS.body.items[0]).to.include({
      market: 'primary',
      status: 1,
      income: Number(first.interest),
    });
    // C holds the rows of what it bought; B holds nothing any more.
    const rowsC = await RepaymentSchedule.findAll({ where: { userId: c.userId } });
    expect(rowsC.reduce((x, r) => x + r.principal, 0n)).to.equal(1_000_000n);
    expect(await RepaymentSchedule.count({ where: { userId: b.userId } })).to.equal(0);
    await expectSound(s.loan.creditorNo);
  });
});
