import { expect } from 'chai';
import sinon from 'sinon';
import type { GatewayInstruction } from '../../src/adapters/gateway';
import {
  accountCode,
  investorAccount,
  type AccountRef,
} from '../../src/modules/ledger/ledger.accounts';
import { checkLedger, getBalances } from '../../src/modules/ledger/ledger.service';
import { Loan } from '../../src/modules/loans/loan.model';
import { Asset } from '../../src/modules/assets/asset.model';
import { Order } from '../../src/modules/orders/order.model';
import { PartnerNotification } from '../../src/modules/partner/notification.model';
import { PaymentInstruction } from '../../src/modules/payments/payment.model';
import {
  acknowledge,
  paymentDeps,
  queryInstruction,
} from '../../src/modules/payments/payments.service';
import { reconcile } from '../../src/modules/reconciliation/reconciliation.service';
import { Repayment } from '../../src/modules/repayments/repayment.model';
import { RepaymentPlan } from '../../src/modules/schedules/schedule.model';
import { settleLoan } from '../../src/modules/settlement/settlement.service';
import { CreditOrder } from '../../src/modules/transfers/credit-order.model';
import { setClock } from '../../src/lib/clock';
import { Recharge, Withdrawal } from '../../src/modules/wallet/wallet.model';
import { QueueName } from '../../src/queues/queues';
import { eventually, randomCard } from '../helpers/api';
import { testDb } from '../helpers/context';
import {
  disbursedLoan,
  loanBody,
  makeInvestor,
  partnerOf,
  reportRepayment,
  signedPost,
  startMarket,
  type Market,
} from '../helpers/market';

const DAY = 86_400_000;

describe('gateways that contradict themselves: a success after a failure is applied, never parked', function () {
  this.timeout(60_000);
  let m: Market;

  before(async () => {
    m = await startMarket('contradict', {
      queues: [QueueName.Orders, QueueName.Payments, QueueName.Loans, QueueName.Transfers],
      gateway: { sandboxUnknownMs: 1_500, declineConfirmSeconds: 600 },
    });
  });
  after(async () => m.stop());
  afterEach(() => {
    sinon.restore();
    setClock();
  });

  const bal = async (ref: AccountRef) => (await getBalances([ref])).get(accountCode(ref))!;
  const wallet = async (userId: string) => [
    await bal(investorAccount(userId, 'available')),
    await bal(investorAccount(userId, 'locked')),
    await bal(investorAccount(userId, 'invested')),
  ];
  const instructionOf = async (purpose: string, refId: string) =>
    (await PaymentInstruction.findOne({
      where: { purpose, refId },
      order: [['id', 'DESC']],
    }))!;

  /** The gateway refuses the submit of instructions for which `refuse` says so. */
  function refuseSubmits(refuse: (row: PaymentInstruction) => boolean) {
    const gateway = m.rt.ports.gateway;
    const submit = sinon.stub(gateway, 'submit').callsFake(async (i: GatewayInstruction) => {
      const row = await PaymentInstruction.findByPk(i.instructionId);
      if (row && refuse(row)) return { accepted: false, failReason: 'refused (test)' };
      return submit.wrappedMethod.call(gateway, i);
    });
  }

  /** The gateway's signed success callback for an instruction, as it would send it late. */
  async function lateSuccess(i: PaymentInstruction) {
    const res = await signedPost(
      m.url,
      '/callbacks/v1/payments',
      {
        instructionId: String(i.id),
        gatewayTxnId: `LATE-${i.id}`,
        status: 'success',
        amount: Number(i.amount),
      },
      m.rt.config.gateway.secret,
    );
    expect(res.status).to.equal(200);
  }

  async function openLoan(over: Record<string, unknown> = {}) {
    const body = loanBody({ amountApply: 1_000_000, serviceFee: 0, ...over });
    expect((await partnerOf(m).post('/partner/v1/loans', body)).status).to.equal(201);
    return body.creditorNo as string;
  }

  const buy = async (token: string, creditorNo: string, payWith: 'card' | 'wallet') =>
    (await m.api.post('/api/v1/orders', { creditorNo, amount: 1_000_000, payWith }, { token })).body
      .id as string;

  it('when a card …0036 is declined and then succeeds while the loan has room, then the order is re-locked and paid once', async () => {
    const creditorNo = await openLoan();
    const inv = await makeInvestor(m.rt, { cardLast4: '0036' });
    const id = await buy(inv.token, creditorNo, 'card');
    await eventually(async () => (await Order.findByPk(id))!.status === 'failed');
    expect((await Loan.findOne({ where: { creditorNo } }))!.lockedAmount).to.equal(0n);
    await eventually(async () => (await Order.findByPk(id))!.status === 'paid', 8_000);
    expect(await wallet(inv.userId)).to.deep.equal([0n, 0n, 1_000_000n]);
    expect(await Asset.count({ where: { orderId: id } })).to.equal(1);
    expect((await Loan.findOne({ where: { creditorNo } }))!.boughtAmount).to.equal(1_000_000n);
    expect((await instructionOf('order', id)).outcome).to.match(/^late success/);
  });

  it('when a card …0036 succeeds after the loan filled, then the money is refunded to the card (itself declined, then paid)', async () => {
    const creditorNo = await openLoan();
    const late = await makeInvestor(m.rt, { cardLast4: '0036' });
    const id = await buy(late.token, creditorNo, 'card');
    await eventually(async () => (await Order.findByPk(id))!.status === 'failed');
    const other = await makeInvestor(m.rt, { wallet: 1_000_000n });
    const otherId = await buy(other.token, creditorNo, 'wallet');
    await eventually(async () => (await Order.findByPk(otherId))!.status === 'paid');
    await eventually(async () => (await Order.findByPk(id))!.status === 'refunding', 8_000);
    // The refund payout to the same card is declined first: held for confirmation, then paid.
    await eventually(async () => (await instructionOf('refund', id)).status === 'declined');
    await eventually(async () => (await Order.findByPk(id))!.status === 'refunded', 8_000);
    expect(await wallet(late.userId)).to.deep.equal([0n, 0n, 0n]);
    expect((await Loan.findOne({ where: { creditorNo } }))!.boughtAmount).to.equal(1_000_000n);
  });

  it('when a recharge from a card …0036 is declined and then succeeds, then the wallet is credited once', async () => {
    const inv = await makeInvestor(m.rt, { cardLast4: '0036' });
    const r = await m.api.post('/api/v1/me/recharges', { amount: 500_000 }, { token: inv.token });
    await eventually(async () => (await Recharge.findByPk(r.body.id))!.status === 'failed');
    expect(await bal(investorAccount(inv.userId, 'available'))).to.equal(0n);
    await eventually(
      async () => (await Recharge.findByPk(r.body.id))!.status === 'succeeded',
      8_000,
    );
    expect(await bal(investorAccount(inv.userId, 'available'))).to.equal(500_000n);
  });

  it('when a withdrawal to a card …0036 is declined and then paid, then the money stayed locked meanwhile and leaves once', async () => {
    const inv = await makeInvestor(m.rt, { cardLast4: '0036', wallet: 1_000_000n });
    const w = await m.api.post('/api/v1/me/withdrawals', { amount: 400_000 }, { token: inv.token });
    await eventually(
      async () => (await instructionOf('withdrawal', w.body.id)).status === 'declined',
    );
    expect((await Withdrawal.findByPk(w.body.id))!.status).to.equal('pending');
    expect(await wallet(inv.userId)).to.deep.equal([600_000n, 400_000n, 0n]);
    await eventually(
      async () => (await Withdrawal.findByPk(w.body.id))!.status === 'succeeded',
      8_000,
    );
    expect(await wallet(inv.userId)).to.deep.equal([600_000n, 0n, 0n]);
  });

  it('when a withdrawal’s decline was confirmed, the money spent, and the payout succeeds after all, then nothing is invented: reconcile tells finance to recover it', async () => {
    const inv = await makeInvestor(m.rt, { cardLast4: '7777', wallet: 1_000_000n });
    refuseSubmits((row) => row.purpose === 'withdrawal');
    const query = sinon.stub(m.rt.ports.gateway, 'query').resolves({ status: 'failed' });
    const w = await m.api.post(
      '/api/v1/me/withdrawals',
      { amount: 1_000_000 },
      { token: inv.token },
    );
    const payout = await (async () => {
      await eventually(
        async () => (await instructionOf('withdrawal', w.body.id)).status === 'declined',
      );
      return instructionOf('withdrawal', w.body.id);
    })();
    expect(await queryInstruction(paymentDeps(m.rt), payout.id)).to.equal('withdrawal failed');
    query.restore();
    expect(await wallet(inv.userId)).to.deep.equal([1_000_000n, 0n, 0n]);
    // The investor spends it at once on a loan.
    const creditorNo = await openLoan();
    const spent = await buy(inv.token, creditorNo, 'wallet');
    await eventually(async () => (await Order.findByPk(spent))!.status === 'paid');
    await lateSuccess(payout);
    await eventually(async () => (await payout.reload()).status === 'succeeded');
    expect(payout.outcome).to.match(/not applied: .*recover 1000000 from investor/);
    expect(await wallet(inv.userId)).to.deep.equal([0n, 0n, 1_000_000n]);
    const listed = (await reconcile(testDb(), { loans: [creditorNo] })).filter(
      (x) => x.check === 'instruction.not_applied',
    );
    expect(listed.map((x) => x.ref)).to.deep.equal([`instruction ${payout.id}`]);
    expect(listed[0].action).to.contain(`finance instruction:ack ${payout.id}`);
    await acknowledge('instruction', String(payout.id), 'test');
    expect(
      (await reconcile(testDb(), { loans: [creditorNo] })).filter(
        (x) => x.check === 'instruction.not_applied',
      ),
    ).to.deep.equal([]);
    expect((await checkLedger()).ok).to.equal(true);
  });

  it('when the gateway refuses an order’s submit and then reports it paid, then the order is re-locked and paid', async () => {
    const creditorNo = await openLoan();
    const inv = await makeInvestor(m.rt, { cardLast4: '4444' });
    refuseSubmits((row) => row.purpose === 'order');
    const id = await buy(inv.token, creditorNo, 'card');
    await eventually(async () => (await Order.findByPk(id))!.status === 'failed');
    await lateSuccess(await instructionOf('order', id));
    await eventually(async () => (await Order.findByPk(id))!.status === 'paid');
    expect(await wallet(inv.userId)).to.deep.equal([0n, 0n, 1_000_000n]);
  });

  it('when a repayment’s transfer fails and then succeeds, then the partner hears of the failure and the repayment is cleared after all', async () => {
    const { loan } = await disbursedLoan(m, { amountApply: 1_000_000, serviceFee: 0 }, [
      { amount: 1_000_000 },
    ]);
    refuseSubmits((row) => row.purpose === 'repayment');
    const repaymentNo = await reportRepayment(m, loan, 1);
    const r = async () => (await Repayment.findOne({ where: { repaymentNo } }))!;
    await eventually(async () => (await r()).status === 'failed');
    expect(
      await PartnerNotification.count({
        where: { creditorNo: loan.creditorNo, event: 'repayment_failed' },
      }),
    ).to.equal(1);
    await lateSuccess(await instructionOf('repayment', (await r()).id));
    await eventually(async () => (await r()).status === 'cleared');
    expect((await loan.reload()).status).to.equal('repaid');
    expect(await reconcile(testDb(), { loans: [loan.creditorNo] })).to.deep.equal([]);
  });

  it('when a buyer’s custody transfer is refused and then reported done, then the order stays failed, the wallet is whole, and the transfer is reversed', async () => {
    const { loan, investors } = await disbursedLoan(
      m,
      { amountApply: 1_000_000, serviceFee: 0, term: 60 },
      [{ amount: 1_000_000 }],
    );
    setClock({ offsetMs: 5 * DAY });
    const asset = (await Asset.findOne({ where: { loanId: loan.id } }))!;
    const note = await m.api.post(
      '/api/v1/credit-notes',
      { assetId: asset.id, amount: 1_000_000 },
      { token: investors[0].token },
    );
    expect(note.status, JSON.stringify(note.body)).to.equal(201);
    const buyer = await makeInvestor(m.rt, { wallet: 1_100_000n });
    refuseSubmits((row) => row.purpose === 'transfer');
    const res = await m.api.post(
      '/api/v1/credit-orders',
      { noteId: note.body.id, principal: 1_000_000 },
      { token: buyer.token },
    );
    await eventually(async () => (await CreditOrder.findByPk(res.body.id))!.status === 'failed');
    expect(await wallet(buyer.userId)).to.deep.equal([1_100_000n, 0n, 0n]);
    await lateSuccess(await instructionOf('transfer', res.body.id));
    await eventually(
      async () => (await instructionOf('transfer_reversal', res.body.id))?.status === 'succeeded',
    );
    const o = (await CreditOrder.findByPk(res.body.id))!;
    expect([o.status, o.failCode, o.buyerPaymentStatus]).to.deep.equal([
      'failed',
      'PAYMENT_FAILED',
      1,
    ]);
    expect(await wallet(buyer.userId)).to.deep.equal([1_100_000n, 0n, 0n]);
    expect(await reconcile(testDb(), { loans: [loan.creditorNo] })).to.deep.equal([]);
  });

  it('when a disbursement’s decline is confirmed and the payout then succeeds, then the loan is disbursed after all, with its plan', async () => {
    // The payout is refused, and a status query confirms the refusal (both before anything runs).
    refuseSubmits((row) => row.purpose === 'disbursement');
    const query = sinon.stub(m.rt.ports.gateway, 'query').resolves({ status: 'failed' });
    const creditorNo = await openLoan({ bankCardNo: randomCard('455633', '7070') });
    const inv = await makeInvestor(m.rt, { wallet: 1_000_000n });
    const id = await buy(inv.token, creditorNo, 'wallet');
    await eventually(async () => (await Order.findByPk(id))!.status === 'paid');
    const loan = (await Loan.findOne({ where: { creditorNo } }))!;
    await settleLoan({ config: m.rt.config }, loan.id);
    await eventually(
      async () => (await instructionOf('disbursement', loan.id)).status === 'declined',
    );
    const payout = await instructionOf('disbursement', loan.id);
    expect(await queryInstruction(paymentDeps(m.rt), payout.id)).to.equal('disburse_failed');
    query.restore();
    expect((await loan.reload()).status).to.equal('disburse_failed');
    await lateSuccess(payout);
    await eventually(async () => (await loan.reload()).status === 'repaying');
    expect(await RepaymentPlan.count({ where: { loanId: loan.id } })).to.equal(1);
    expect(await reconcile(testDb(), { loans: [creditorNo] })).to.deep.equal([]);
  });
});
