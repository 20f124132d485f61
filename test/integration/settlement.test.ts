import { expect } from 'chai';
import sinon from 'sinon';
import type { SandboxPartner } from '../../src/adapters/partner';
import {
  AccountType,
  accountCode,
  investorAccount,
  platformAccount,
} from '../../src/modules/ledger/ledger.accounts';
import { getBalances } from '../../src/modules/ledger/ledger.service';
import { Loan } from '../../src/modules/loans/loan.model';
import { Asset } from '../../src/modules/assets/asset.model';
import { Order } from '../../src/modules/orders/order.model';
import { expireOrder } from '../../src/modules/orders/orders.service';
import { PartnerNotification } from '../../src/modules/partner/notification.model';
import { deliverNotification } from '../../src/modules/partner/notifications.service';
import { PaymentInstruction } from '../../src/modules/payments/payment.model';
import { queryInstruction } from '../../src/modules/payments/payments.service';
import { RepaymentSchedule } from '../../src/modules/schedules/schedule.model';
import { retryDisbursement, settleLoan } from '../../src/modules/settlement/settlement.service';
import { QueueName } from '../../src/queues/queues';
import { setClock } from '../../src/lib/clock';
import { eventually, randomCard, type Api } from '../helpers/api';
import { testRuntime } from '../helpers/context';
import { loanBody, makeInvestor, signedPost, startMarket } from '../helpers/market';

describe('settlement and disbursement', function () {
  this.timeout(30_000);
  let rt: ReturnType<typeof testRuntime>;
  let api: Api;
  let url: string;
  let stop: () => Promise<void>;

  before(async () => {
    ({ rt, url, api, stop } = await startMarket('settle', {
      queues: [QueueName.Orders, QueueName.Payments],
    }));
  });
  after(async () => stop());

  const deps = () => ({ config: rt.config });
  const loanOf = async (creditorNo: string) => (await Loan.findOne({ where: { creditorNo } }))!;
  const balanceOf = async (ref: ReturnType<typeof investorAccount>) =>
    (await getBalances([ref])).get(accountCode(ref))!;
  async function newLoan(over: Record<string, unknown> = {}) {
    const body = loanBody(over);
    expect(
      (await signedPost(url, '/partner/v1/loans', body, rt.config.partner.secret)).status,
    ).to.equal(201);
    return body;
  }
  async function buy(creditorNo: string, amount: number) {
    const inv = await makeInvestor(rt, { wallet: BigInt(amount) });
    const res = await api.post(
      '/api/v1/orders',
      { creditorNo, amount, payWith: 'wallet' },
      { token: inv.token },
    );
    await eventually(async () => (await Order.findByPk(res.body.id))!.status === 'paid');
    return inv;
  }
  /** The clock moves past the deadline of loans published now. */
  const pastDeadline = () => setClock({ offsetMs: rt.config.settlementDelaySeconds * 1000 + 1000 });
  afterEach(() => setClock());

  it('when nothing is bought by the deadline, then the loan fails (流标) and the partner is told until it hears', async () => {
    const body = await newLoan();
    const loan = await loanOf(body.creditorNo);
    expect(await settleLoan(deps(), loan.id)).to.equal('open until the deadline');
    pastDeadline();
    expect(await settleLoan(deps(), loan.id)).to.equal('failed');
    expect(await settleLoan(deps(), loan.id)).to.equal('already failed');
    const n = (await PartnerNotification.findOne({
      where: { creditorNo: body.creditorNo, event: 'loan_failed' },
    }))!;
    expect(n.status).to.equal('pending');
    const partner = rt.ports.partner as SandboxPartner;
    const failing = sinon.stub(partner, 'notify').rejects(new Error('partner down'));
    await deliverNotification(partner, n.id).catch(() => undefined);
    failing.restore();
    expect((await n.reload()).status).to.equal('pending');
    expect(await deliverNotification(partner, n.id)).to.equal('delivered');
    expect(await deliverNotification(partner, n.id)).to.equal('already delivered');
    expect(partner.delivered.filter((d) => d.creditorNo === body.creditorNo)).to.have.length(1);
    expect(await PartnerNotification.count({ where: { creditorNo: body.creditorNo } })).to.equal(1);
  });

  it('when locks are still paying at the deadline, then settlement waits for them, and goes on once they expire', async () => {
    const body = await newLoan();
    const inv = await makeInvestor(rt, { cardLast4: '0119' });
    const res = await api.post(
      '/api/v1/orders',
      { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'card' },
      { token: inv.token },
    );
    await eventually(async () => (await Order.findByPk(res.body.id))!.status === 'paying');
    pastDeadline();
    const loan = await loanOf(body.creditorNo);
    expect(await settleLoan(deps(), loan.id)).to.equal('settling: waiting for 1 lock(s)');
    expect((await loanOf(body.creditorNo)).status).to.equal('settling');
    const buyer = await makeInvestor(rt, { wallet: 1_000_000n });
    const late = await api.post(
      '/api/v1/orders',
      { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'wallet' },
      { token: buyer.token },
    );
    await eventually(async () => (await Order.findByPk(late.body.id))!.status === 'rejected');
    expect((await Order.findByPk(late.body.id))!.failCode).to.equal('LOAN_NOT_OPEN');
    // The clock is past the deadline, so past the 30-minute lock too.
    await expireOrder(res.body.id);
    expect(await settleLoan(deps(), loan.id)).to.equal('failed');
  });

  it('when a loan is partly bought at the deadline, then the super investor buys the rest, and the disbursement pays the borrower', async () => {
    const body = await newLoan({
      amountApply: 10_000_000,
      serviceFee: 500_000,
      yearRateFin: '12',
      term: 30,
    });
    const inv = await buy(body.creditorNo, 4_000_000);
    pastDeadline();
    const loan = await loanOf(body.creditorNo);
    const superRef = investorAccount(rt.config.superInvestorUserId, 'invested');
    const superBefore = await balanceOf(superRef);
    const lineBefore = await balanceOf(platformAccount(AccountType.SuperInvestor));
    const feeBefore = await balanceOf(platformAccount(AccountType.RevenueServiceFee));
    expect(await settleLoan(deps(), loan.id)).to.equal('disbursing');
    const superAsset = (await Asset.findOne({
      where: { loanId: loan.id, userId: String(rt.config.superInvestorUserId) },
    }))!;
    expect(superAsset.principal).to.equal(6_000_000n);
    expect((await balanceOf(superRef)) - superBefore).to.equal(6_000_000n);
    expect((await balanceOf(platformAccount(AccountType.SuperInvestor))) - lineBefore).to.equal(
      -6_000_000n,
    );
    const payout = (await PaymentInstruction.findOne({
      where: { purpose: 'disbursement', refId: loan.id },
    }))!;
    expect(payout.amount).to.equal(9_500_000n);
    await eventually(async () => (await loanOf(body.creditorNo)).status === 'repaying');
    const repaying = await loanOf(body.creditorNo);
    expect(repaying.loanTime).to.be.instanceOf(Date);
    expect(repaying.dueTime!.getTime()).to.be.greaterThan(
      repaying.loanTime!.getTime() + 29 * 86_400_000,
    );
    expect((await balanceOf(platformAccount(AccountType.RevenueServiceFee))) - feeBefore).to.equal(
      500_000n,
    );
    const rows = await RepaymentSchedule.findAll({
      where: { loanId: loan.id },
      order: [['userId', 'ASC']],
    });
    expect(rows).to.have.length(2);
    const mine = rows.find((r) => String(r.userId) === inv.userId)!;
    // 4,000,000 × 12% × 30/365 = 39,452.05 → 39,452
    expect([mine.period, mine.principal, mine.interest, mine.status]).to.deep.equal([
      1,
      4_000_000n,
      39_452n,
      'pending',
    ]);
    expect(
      await PartnerNotification.count({
        where: { creditorNo: body.creditorNo, event: 'loan_disbursed' },
      }),
    ).to.equal(1);
    expect(await settleLoan(deps(), loan.id)).to.equal('already repaying');
  });

  it('when the last share is bought, then settlement is started at once, without waiting for the deadline', async () => {
    const body = await newLoan({ amountApply: 2_000_000, serviceFee: 0 });
    await buy(body.creditorNo, 2_000_000);
    const loan = await loanOf(body.creditorNo);
    const jobs = await rt.queues.get(QueueName.Loans)!.getJobs(['waiting', 'delayed']);
    const settleJobs = jobs.filter(
      (j) => j.name === 'loan.settle' && j.data.loanId === String(loan.id),
    );
    expect(settleJobs.map((j) => j.opts.delay ?? 0).some((d) => d === 0)).to.equal(true);
    expect(await settleLoan(deps(), loan.id)).to.equal('disbursing');
  });

  it("when the borrower's payout fails, then the loan is disburse_failed, and finance can retry with a new instruction", async () => {
    const body = await newLoan({
      amountApply: 1_000_000,
      serviceFee: 0,
      bankCardNo: randomCard('455633', '0002'),
    });
    await buy(body.creditorNo, 1_000_000);
    const loan = await loanOf(body.creditorNo);
    await settleLoan(deps(), loan.id);
    // A payout's decline waits for a status query to confirm it: the loan is still disbursing.
    const first = async () =>
      (await PaymentInstruction.findOne({ where: { purpose: 'disbursement', refId: loan.id } }))!;
    await eventually(async () => (await first()).status === 'declined');
    expect((await loanOf(body.creditorNo)).status).to.equal('disbursing');
    expect(
      await queryInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, (await first()).id),
    ).to.equal('disburse_failed');
    expect((await loanOf(body.creditorNo)).status).to.equal('disburse_failed');
    expect(
      await PartnerNotification.count({
        where: { creditorNo: body.creditorNo, event: 'loan_disburse_failed' },
      }),
    ).to.equal(1);
    expect(await retryDisbursement(loan.id)).to.equal('disbursing (attempt 2)');
    expect(
      await PaymentInstruction.count({ where: { purpose: 'disbursement', refId: loan.id } }),
    ).to.equal(2);
    let refused: Error | undefined;
    await retryDisbursement(loan.id).catch((e) => (refused = e));
    expect(refused?.message).to.contain('not disburse_failed');
  });

  it('when settlement dies after its first write and runs again, then the top-up is applied once', async () => {
    const body = await newLoan({ amountApply: 3_000_000, serviceFee: 0 });
    await buy(body.creditorNo, 1_000_000);
    pastDeadline();
    const loan = await loanOf(body.creditorNo);
    const crash = sinon.stub(Asset, 'create').rejects(new Error('worker died'));
    await settleLoan(deps(), loan.id).catch(() => undefined);
    crash.restore();
    expect((await loanOf(body.creditorNo)).status).to.equal('open');
    expect(await settleLoan(deps(), loan.id)).to.equal('disbursing');
    expect(await settleLoan(deps(), loan.id)).to.equal('already disbursing');
    expect(await Asset.count({ where: { loanId: loan.id } })).to.equal(2);
    expect((await loanOf(body.creditorNo)).boughtAmount).to.equal(3_000_000n);
  });
});
