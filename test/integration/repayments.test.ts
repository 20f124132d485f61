import { expect } from 'chai';
import sinon from 'sinon';
import {
  AccountType,
  accountCode,
  investorAccount,
  platformAccount,
  type AccountRef,
} from '../../src/modules/ledger/ledger.accounts';
import { checkLedger, getBalances } from '../../src/modules/ledger/ledger.service';
import { Loan } from '../../src/modules/loans/loan.model';
import { Repayment } from '../../src/modules/repayments/repayment.model';
import { clearRepayment, markOverdueLoans } from '../../src/modules/repayments/repayments.service';
import { RepaymentSchedule } from '../../src/modules/schedules/schedule.model';
import { Withdrawal } from '../../src/modules/wallet/wallet.model';
import { setClock } from '../../src/lib/clock';
import { QueueName } from '../../src/queues/queues';
import { eventually, type Api } from '../helpers/api';
import {
  disbursedLoan as disbursed,
  signedPost,
  startMarket,
  type Market,
} from '../helpers/market';

describe('repayments and clearing', function () {
  this.timeout(60_000);
  let m: Market;
  let rt: Market['rt'];
  let api: Api;
  let url: string;

  before(async () => {
    m = await startMarket('repay', {
      queues: [QueueName.Orders, QueueName.Payments, QueueName.Loans],
    });
    ({ rt, url, api } = m);
  });
  after(async () => m.stop());

  const bal = async (ref: AccountRef) => (await getBalances([ref])).get(accountCode(ref))!;
  const partner = (path: string, body: unknown) =>
    signedPost(url, path, body, rt.config.partner.secret);
  /** A disbursed loan: investors buy the given amounts (wallet or card), the super investor tops up. */
  const disbursedLoan = (
    over: Record<string, unknown>,
    buys: { amount: number; pay: 'wallet' | 'card' }[],
  ) => disbursed(m, over, buys);

  it('the full story: loan in, three investors buy, super investor tops up, disbursement, repayment with a late fee, withdrawal — every balance as computed by hand', async () => {
    const superId = rt.config.superInvestorUserId;
    const before = {
      fee: await bal(platformAccount(AccountType.RevenueServiceFee)),
      spread: await bal(platformAccount(AccountType.RevenueSpread)),
      late: await bal(platformAccount(AccountType.RevenueLateFee)),
      superAvail: await bal(investorAccount(superId, 'available')),
      superInvested: await bal(investorAccount(superId, 'invested')),
    };
    const { body, loan, investors } = await disbursedLoan(
      {
        amountApply: 10_000_000,
        serviceFee: 500_000,
        yearRateFin: '12',
        yearRateLoan: '18',
        term: 30,
      },
      [
        { amount: 2_000_000, pay: 'wallet' },
        { amount: 3_000_000, pay: 'card' },
        { amount: 1_000_000, pay: 'wallet' },
      ],
    );
    const [a, b, c] = investors;
    // Schedules: floor(P × 12% × 30/365): 19,726 / 29,589 / 9,863, super investor (4,000,000) 39,452.
    const rows = await RepaymentSchedule.findAll({ where: { loanId: loan.id } });
    const interestOf = (userId: string | number) =>
      rows.find((r) => String(r.userId) === String(userId))!.interest;
    expect([
      interestOf(a.userId),
      interestOf(b.userId),
      interestOf(c.userId),
      interestOf(superId),
    ]).to.deep.equal([19_726n, 29_589n, 9_863n, 39_452n]);
    expect((await bal(platformAccount(AccountType.RevenueServiceFee))) - before.fee).to.equal(
      500_000n,
    );

    // The borrower pays 10,000,000 + 147,945 interest (18%) + 50,000 late fee + 10,000 overdue service fee.
    const report = {
      creditorNo: body.creditorNo,
      period: 1,
      repaymentNo: `R-${body.creditorNo}`,
      principal: 10_000_000,
      interest: 147_945,
      lateFee: 50_000,
      overdueServiceFee: 10_000,
      paidAt: new Date().toISOString(),
    };
    const res = await partner('/partner/v1/repayments', report);
    expect(res.status).to.equal(201);
    await eventually(async () => (await loan.reload()).status === 'repaid');

    expect(await bal(investorAccount(a.userId, 'available'))).to.equal(2_019_726n);
    expect(await bal(investorAccount(b.userId, 'available'))).to.equal(3_029_589n);
    expect(await bal(investorAccount(c.userId, 'available'))).to.equal(1_009_863n);
    for (const inv of investors)
      expect(await bal(investorAccount(inv.userId, 'invested'))).to.equal(0n);
    expect((await bal(investorAccount(superId, 'available'))) - before.superAvail).to.equal(
      4_039_452n,
    );
    expect((await bal(investorAccount(superId, 'invested'))) - before.superInvested).to.equal(0n);
    // Spread: 147,945 − (19,726 + 29,589 + 9,863 + 39,452) = 49,315. Late fees: 60,000.
    expect((await bal(platformAccount(AccountType.RevenueSpread))) - before.spread).to.equal(
      49_315n,
    );
    expect((await bal(platformAccount(AccountType.RevenueLateFee))) - before.late).to.equal(
      60_000n,
    );
    expect(
      (await RepaymentSchedule.findAll({ where: { loanId: loan.id } })).every(
        (r) => r.status === 'paid',
      ),
    ).to.equal(true);
    expect((await api.get('/api/v1/me/account', { token: a.token })).body).to.include({
      availableBalance: 2_019_726,
      sanbiaoBalance: 0,
      totalIncome: 19_726,
    });
    expect(
      (await api.get('/api/v1/me/orders?status=2', { token: a.token })).body.items[0],
    ).to.include({ status: 2, creditorNo: body.creditorNo });

    // A withdraws everything to the bound card.
    const w = await api.post('/api/v1/me/withdrawals', { amount: 2_019_726 }, { token: a.token });
    await eventually(async () => (await Withdrawal.findByPk(w.body.id))!.status === 'succeeded');
    expect(await bal(investorAccount(a.userId, 'available'))).to.equal(0n);
    const check = await checkLedger();
    expect(check.mismatches).to.deep.equal([]);
    expect(check.ok).to.equal(true);
  });

  it('when the same repayment is reported twice, then it is one; other figures under its number are 409', async () => {
    const { body, loan } = await disbursedLoan(
      { amountApply: 1_000_000, serviceFee: 0, yearRateFin: '12', term: 30 },
      [{ amount: 1_000_000, pay: 'wallet' }],
    );
    const report = {
      creditorNo: body.creditorNo,
      period: 1,
      repaymentNo: `R2-${body.creditorNo}`,
      principal: 1_000_000,
      interest: 9_863,
      lateFee: 0,
      overdueServiceFee: 0,
      paidAt: '2026-12-22T03:00:00.000Z',
    };
    expect((await partner('/partner/v1/repayments', report)).status).to.equal(201);
    // A retry by the partner is signed again (another timestamp).
    const retry = await signedPost(
      url,
      '/partner/v1/repayments',
      report,
      rt.config.partner.secret,
      { timestamp: Math.floor(Date.now() / 1000) - 3 },
    );
    expect(retry.status).to.equal(200);
    expect((await partner('/partner/v1/repayments', { ...report, interest: 1 })).status).to.equal(
      409,
    );
    await eventually(async () => (await loan.reload()).status === 'repaid');
    expect(await Repayment.count({ where: { loanId: loan.id } })).to.equal(1);
  });

  it('when a repayment does not match the schedule, then it is held with the reason and nothing is split', async () => {
    const { body, loan, investors } = await disbursedLoan(
      { amountApply: 1_000_000, serviceFee: 0, yearRateFin: '12', term: 30 },
      [{ amount: 1_000_000, pay: 'wallet' }],
    );
    const report = {
      creditorNo: body.creditorNo,
      period: 1,
      repaymentNo: `R3-${body.creditorNo}`,
      principal: 900_000,
      interest: 9_863,
      lateFee: 0,
      overdueServiceFee: 0,
      paidAt: new Date().toISOString(),
    };
    expect((await partner('/partner/v1/repayments', report)).status).to.equal(201);
    await eventually(
      async () =>
        (await Repayment.findOne({ where: { repaymentNo: report.repaymentNo } }))!.status ===
        'held',
    );
    const held = (await Repayment.findOne({ where: { repaymentNo: report.repaymentNo } }))!;
    expect(held.holdReason).to.contain('principal 900000 differs');
    expect(await bal(investorAccount(investors[0].userId, 'available'))).to.equal(0n);
    expect(await bal(investorAccount(investors[0].userId, 'invested'))).to.equal(1_000_000n);
    expect((await loan.reload()).status).to.equal('repaying');
  });

  it('when clearing dies after its first write and runs again, then the split is applied once', async () => {
    const { body, loan, investors } = await disbursedLoan(
      { amountApply: 1_000_000, serviceFee: 0, yearRateFin: '12', term: 30 },
      [{ amount: 1_000_000, pay: 'wallet' }],
    );
    await rt.queues.get(QueueName.Loans)!.pause();
    try {
      const report = {
        creditorNo: body.creditorNo,
        period: 1,
        repaymentNo: `R4-${body.creditorNo}`,
        principal: 1_000_000,
        interest: 9_863,
        lateFee: 0,
        overdueServiceFee: 0,
        paidAt: new Date().toISOString(),
      };
      expect((await partner('/partner/v1/repayments', report)).status).to.equal(201);
      await eventually(
        async () =>
          (await Repayment.findOne({ where: { repaymentNo: report.repaymentNo } }))!.status ===
          'arrived',
      );
      const r = (await Repayment.findOne({ where: { repaymentNo: report.repaymentNo } }))!;
      const crash = sinon.stub(Loan.prototype, 'update').rejects(new Error('worker died'));
      await clearRepayment(r.id).catch(() => undefined);
      crash.restore();
      expect(await bal(investorAccount(investors[0].userId, 'available'))).to.equal(0n);
      expect(await clearRepayment(r.id)).to.equal('cleared; loan repaid');
      expect(await clearRepayment(r.id)).to.equal('repayment cleared');
      expect(await bal(investorAccount(investors[0].userId, 'available'))).to.equal(1_009_863n);
      expect((await loan.reload()).status).to.equal('repaid');
    } finally {
      await rt.queues.get(QueueName.Loans)!.resume();
    }
  });

  it('when an installment is past due, then the sweeper marks the loan overdue, and paying it brings it back to repaying', async () => {
    const { body, loan } = await disbursedLoan(
      {
        amountApply: 1_200_000,
        serviceFee: 0,
        yearRateFin: '12',
        term: 3,
        termUnit: 'month',
        repaymentMethod: 'monthly_interest',
      },
      [{ amount: 1_200_000, pay: 'wallet' }],
    );
    // Forty days on, period 1 (due a month after disbursement) is late.
    setClock({ offsetMs: 40 * 86_400_000 });
    expect(await markOverdueLoans()).to.be.greaterThan(0);
    expect((await loan.reload()).status).to.equal('overdue');
    const report = {
      creditorNo: body.creditorNo,
      period: 1,
      repaymentNo: `R5-${body.creditorNo}`,
      principal: 0,
      interest: 12_000,
      lateFee: 1_000,
      overdueServiceFee: 0,
      paidAt: new Date().toISOString(),
    };
    expect((await partner('/partner/v1/repayments', report)).status).to.equal(201);
    await eventually(async () => (await loan.reload()).status === 'repaying');
    const skipped = {
      ...report,
      period: 3,
      repaymentNo: `R6-${body.creditorNo}`,
      principal: 1_200_000,
    };
    expect((await partner('/partner/v1/repayments', skipped)).status).to.equal(201);
    await eventually(
      async () =>
        (await Repayment.findOne({ where: { repaymentNo: skipped.repaymentNo } }))!.status ===
        'held',
    );
    expect(
      (await Repayment.findOne({ where: { repaymentNo: skipped.repaymentNo } }))!.holdReason,
    ).to.contain('earlier period');
  });

  afterEach(() => setClock());
});
