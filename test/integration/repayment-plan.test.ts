import { expect } from 'chai';
import { jakartaDate, setClock } from '../../src/lib/clock';
import {
  AccountType,
  accountCode,
  investorAccount,
  platformAccount,
  type AccountRef,
} from '../../src/modules/ledger/ledger.accounts';
import { checkLedger, getBalances } from '../../src/modules/ledger/ledger.service';
import { Loan } from '../../src/modules/loans/loan.model';
import { Asset } from '../../src/modules/assets/asset.model';
import { PartnerNotification } from '../../src/modules/partner/notification.model';
import { reconcile } from '../../src/modules/reconciliation/reconciliation.service';
import { returnRepayment } from '../../src/modules/repayments/repayments.service';
import { buildPlan } from '../../src/modules/schedules/schedule';
import { RepaymentPlan, RepaymentSchedule } from '../../src/modules/schedules/schedule.model';
import { CreditNote } from '../../src/modules/transfers/credit-note.model';
import { QueueName } from '../../src/queues/queues';
import { eventually } from '../helpers/api';
import { silentLogger, testDb } from '../helpers/context';
import { ledgerAuditProcessor } from '../../jobs/processors/ledger-audit.processor';
import {
  disbursedLoan,
  loanBody,
  makeInvestor,
  partnerOf,
  reportRepayment,
  settledRepayment,
  startMarket,
  type Market,
} from '../helpers/market';

const DAY = 86_400_000;

describe('the repayment plan, shrinking assets and early payoff', function () {
  this.timeout(60_000);
  let m: Market;
  let partner: ReturnType<typeof partnerOf>;

  before(async () => {
    m = await startMarket('plan', {
      queues: [QueueName.Orders, QueueName.Payments, QueueName.Loans, QueueName.Transfers],
    });
    partner = partnerOf(m);
  });
  after(async () => m.stop());
  afterEach(() => setClock());

  const bal = async (ref: AccountRef) => (await getBalances([ref])).get(accountCode(ref))!;
  const superId = () => String(m.rt.config.superInvestorUserId);

  /** 12,000,000 lent in 6 equal installments at 18% (investors 12%): A 5 M, B 4 M, super investor 3 M. */
  async function installmentLoan() {
    return disbursedLoan(
      m,
      {
        amountApply: 12_000_000,
        serviceFee: 0,
        yearRateLoan: '18',
        yearRateFin: '12',
        term: 6,
        termUnit: 'month',
        repaymentMethod: 'equal_installment',
      },
      [
        { amount: 5_000_000, pay: 'wallet' },
        { amount: 4_000_000, pay: 'card' },
      ],
    );
  }

  const planOf = (loanId: string) =>
    RepaymentPlan.findAll({ where: { loanId }, order: [['period', 'ASC']] });

  /** The partner reports `period` (at the plan's figures unless `over` says otherwise); cleared or held. */
  const repay = async (loan: Loan, period: number, over: Record<string, unknown> = {}) =>
    settledRepayment(await reportRepayment(m, loan, period, over));

  /** Every whole-life invariant of one loan, and the ledger. */
  async function expectSound(loan: Loan) {
    expect((await checkLedger()).ok, 'ledger').to.equal(true);
    expect(await reconcile(testDb(), { loans: [loan.creditorNo] })).to.deep.equal([]);
    const assets = await Asset.findAll({ where: { loanId: loan.id } });
    const outstanding = (await planOf(loan.id))
      .filter((p) => p.status === 'pending')
      .reduce((s, p) => s + p.principal, 0n);
    expect(
      assets.reduce((s, a) => s + a.principal, 0n),
      'holders = outstanding',
    ).to.equal(outstanding);
    for (const a of assets) {
      const unpaid = (
        await RepaymentSchedule.findAll({ where: { assetId: a.id, status: 'pending' } })
      ).reduce((s, r) => s + r.principal, 0n);
      expect(a.principal, `asset ${a.id}`).to.equal(unpaid);
    }
  }

  it('when a loan is disbursed, then its plan is fixed at the borrower rate, the partner reads it and is told it, and every period of the holders sums to the plan', async () => {
    const open = loanBody();
    expect((await partner.post('/partner/v1/loans', open)).status).to.equal(201);
    const before = await partner.get(`/partner/v1/loans/${open.creditorNo}`);
    expect(before.status).to.equal(200);
    expect(before.body).to.include({ creditorNo: open.creditorNo, status: 'open' });
    expect(before.body.repaymentPlan).to.deep.equal([]);
    expect(
      (await fetch(`${m.url}/partner/v1/loans/${open.creditorNo}`)).status,
      'unsigned',
    ).to.equal(401);

    const { loan } = await installmentLoan();
    const expected = buildPlan({
      principal: 12_000_000n,
      yearRate: '18',
      method: 'equal_installment',
      term: 6,
      start: jakartaDate(loan.loanTime!),
    });
    const plan = await planOf(loan.id);
    expect(plan.map((p) => [p.period, p.dueDate, p.principal, p.interest, p.status])).to.deep.equal(
      expected.map((p) => [p.period, p.dueDate, p.principal, p.interest, 'pending']),
    );
    // The annuity at 18%: 2,106,….
    expect(plan[0].principal + plan[0].interest).to.equal(plan[1].principal + plan[1].interest);
    const read = await partner.get(`/partner/v1/loans/${loan.creditorNo}`);
    expect(read.body.status).to.equal('repaying');
    expect(read.body.repaymentPlan).to.have.length(6);
    expect(read.body.repaymentPlan[0]).to.deep.equal({
      period: 1,
      dueDate: expected[0].dueDate,
      principal: Number(expected[0].principal),
      interest: Number(expected[0].interest),
      status: 'pending',
    });
    const told = (await PartnerNotification.findOne({
      where: { creditorNo: loan.creditorNo, event: 'loan_disbursed' },
    }))!;
    expect(told.payload.repaymentPlan).to.deep.equal(read.body.repaymentPlan);
    for (const p of plan) {
      const rows = await RepaymentSchedule.findAll({
        where: { loanId: loan.id, period: p.period },
      });
      expect(rows).to.have.length(3);
      expect(
        rows.reduce((s, r) => s + r.principal, 0n),
        `period ${p.period}`,
      ).to.equal(p.principal);
    }
    // The first month's interest of each holder: 1% of what it holds.
    const first = await RepaymentSchedule.findAll({
      where: { loanId: loan.id, period: 1 },
      order: [['principal', 'DESC']],
    });
    expect(first.map((r) => r.interest)).to.deep.equal([50_000n, 40_000n, 30_000n]);
    await expectSound(loan);
  });

  it('when the partner repays a period at the plan’s amounts, then it clears, every asset shrinks by the principal it got back, and invested equals what the assets hold', async () => {
    const { loan, investors } = await installmentLoan();
    const [a, b] = investors;
    const plan = await planOf(loan.id);
    const spreadBefore = await bal(platformAccount(AccountType.RevenueSpread));
    const r = await repay(loan, 1);
    expect([r.status, r.holdReason]).to.deep.equal(['cleared', null]);
    const rows1 = await RepaymentSchedule.findAll({ where: { loanId: loan.id, period: 1 } });
    const paidTo = (userId: string) => rows1.find((x) => String(x.userId) === userId)!;
    expect(await bal(investorAccount(a.userId, 'available'))).to.equal(
      paidTo(a.userId).principal + paidTo(a.userId).interest,
    );
    expect(await bal(investorAccount(b.userId, 'available'))).to.equal(
      paidTo(b.userId).principal + paidTo(b.userId).interest,
    );
    // The borrower's interest at 18% minus the holders' at 12% is spread.
    expect((await bal(platformAccount(AccountType.RevenueSpread))) - spreadBefore).to.equal(
      plan[0].interest - 120_000n,
    );
    const assetA = (await Asset.findOne({ where: { loanId: loan.id, userId: a.userId } }))!;
    expect(assetA.principal).to.equal(5_000_000n - paidTo(a.userId).principal);
    expect(assetA.maxTradableAmount).to.equal(assetA.principal);
    expect(await bal(investorAccount(a.userId, 'invested'))).to.equal(assetA.principal);
    const detail = await m.api.get(`/api/v1/me/assets/${assetA.id}`, { token: a.token });
    expect(detail.body).to.include({
      amount: Number(assetA.principal),
      maxTradableAmount: Number(assetA.principal),
    });
    expect(detail.body.schedule[0].status).to.equal('paid');
    expect((await planOf(loan.id))[0].status).to.equal('paid');
    await expectSound(loan);
  });

  it('when a partner pays a period’s interest but another principal, then it is held with the reason, nothing is split, and the partner is told', async () => {
    const { loan } = await installmentLoan();
    const plan = await planOf(loan.id);
    const r = await repay(loan, 1, { principal: Number(plan[0].principal) - 1 });
    expect([r.status, r.holdCode]).to.deep.equal(['held', 'PRINCIPAL_MISMATCH']);
    expect(r.holdReason).to.contain(`the plan's ${plan[0].principal}`);
    expect(
      await PartnerNotification.count({
        where: { creditorNo: loan.creditorNo, event: 'repayment_held' },
      }),
    ).to.equal(1);
    expect(await RepaymentSchedule.count({ where: { loanId: loan.id, status: 'paid' } })).to.equal(
      0,
    );
  });

  it('when period 2 arrives before period 1, then it waits, and clears by itself once period 1 is repaid', async () => {
    const { loan } = await installmentLoan();
    const second = await repay(loan, 2);
    expect([second.status, second.holdCode]).to.deep.equal(['held', 'EARLIER_PERIOD_UNPAID']);
    await repay(loan, 1);
    await eventually(async () => (await second.reload()).status === 'cleared');
    expect((await planOf(loan.id)).map((p) => p.status).slice(0, 3)).to.deep.equal([
      'paid',
      'paid',
      'pending',
    ]);
    await expectSound(loan);
  });

  it('when the borrower pays off early, then every holder gets all its remaining principal and the period’s interest in one clearing, the loan is repaid and the partner told; a wrong payoff is held and can be returned', async () => {
    const { loan, investors } = await installmentLoan();
    const [a] = investors;
    const plan = await planOf(loan.id);
    await repay(loan, 1);
    const outstanding = plan.slice(1).reduce((s, p) => s + p.principal, 0n);
    const availableBefore = await bal(investorAccount(a.userId, 'available'));
    const rowsA = await RepaymentSchedule.findAll({
      where: { loanId: loan.id, userId: a.userId, status: 'pending' },
      order: [['period', 'ASC']],
    });

    // A payoff short of the outstanding principal is held; finance sends the money back.
    const wrong = await repay(loan, 2, { principal: Number(outstanding) - 100, payoff: true });
    expect([wrong.status, wrong.holdCode]).to.deep.equal(['held', 'PAYOFF_MISMATCH']);
    const clearingBefore = await bal(platformAccount(AccountType.GatewayClearing));
    expect(await returnRepayment(wrong.id)).to.match(/^returning/);
    await eventually(async () => (await wrong.reload()).status === 'returned');
    expect(clearingBefore - (await bal(platformAccount(AccountType.GatewayClearing)))).to.equal(
      wrong.total,
    );
    expect(
      await PartnerNotification.count({
        where: { creditorNo: loan.creditorNo, event: 'repayment_returned' },
      }),
    ).to.equal(1);

    const payoff = await repay(loan, 2, { principal: Number(outstanding), payoff: true });
    expect(payoff.status).to.equal('cleared');
    expect((await loan.reload()).status).to.equal('repaid');
    // A: everything it still held, plus period 2's interest (1% of it); nothing for later periods.
    const held = rowsA.reduce((s, r) => s + r.principal, 0n);
    expect((await bal(investorAccount(a.userId, 'available'))) - availableBefore).to.equal(
      held + rowsA[0].interest,
    );
    expect(rowsA[0].interest).to.equal(held / 100n);
    expect(await bal(investorAccount(a.userId, 'invested'))).to.equal(0n);
    const later = await RepaymentSchedule.findAll({
      where: { loanId: loan.id, userId: a.userId, period: [3, 4, 5, 6] },
    });
    expect(later.every((r) => r.status === 'paid' && r.interest === 0n)).to.equal(true);
    expect((await planOf(loan.id)).every((p) => p.status === 'paid')).to.equal(true);
    const assets = await Asset.findAll({ where: { loanId: loan.id } });
    expect(assets.map((x) => [x.status, x.principal])).to.deep.equal(
      assets.map(() => ['repaid', 0n]),
    );
    const repaid = (await PartnerNotification.findOne({
      where: { creditorNo: loan.creditorNo, event: 'loan_repaid' },
    }))!;
    expect(repaid.payload).to.include({ payoff: true });
    expect(await bal(investorAccount(superId(), 'invested'))).to.equal(
      (await Asset.findAll({ where: { userId: superId() } })).reduce((s, x) => s + x.principal, 0n),
    );
    await expectSound(loan);
  });

  it('when an asset shrinks below what its notes offer, then the newest notes close and the tradable amount is what the asset still holds minus the open offers', async () => {
    const { loan, investors } = await installmentLoan();
    const [a, b] = investors;
    setClock({ offsetMs: 5 * DAY });
    const assetA = (await Asset.findOne({ where: { loanId: loan.id, userId: a.userId } }))!;
    const assetB = (await Asset.findOne({ where: { loanId: loan.id, userId: b.userId } }))!;
    const noteOf = async (token: string, assetId: string, amount: number) => {
      const res = await m.api.post('/api/v1/credit-notes', { assetId, amount }, { token });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      return res.body.id as string;
    };
    const whole = await noteOf(a.token, assetA.id, 5_000_000);
    const partA = await noteOf(b.token, assetB.id, 2_000_000);
    const partB = await noteOf(b.token, assetB.id, 1_000_000);
    await repay(loan, 1);
    // A holds less than the 5,000,000 offered: the note closes, its amount is tradable again.
    expect((await CreditNote.findByPk(whole))!.status).to.equal('withdrawn');
    await assetA.reload();
    expect(assetA.maxTradableAmount).to.equal(assetA.principal);
    // B still holds more than 3,000,000: both notes stay open and the rest is tradable.
    await assetB.reload();
    expect(assetB.principal > 3_000_000n).to.equal(true);
    expect([
      (await CreditNote.findByPk(partA))!.status,
      (await CreditNote.findByPk(partB))!.status,
    ]).to.deep.equal(['open', 'open']);
    expect(assetB.maxTradableAmount).to.equal(assetB.principal - 3_000_000n);
    await expectSound(loan);
    // A buyer of the closed note is refused at once.
    const buyer = await makeInvestor(m.rt, { wallet: 6_000_000n });
    const refused = await m.api.post(
      '/api/v1/credit-orders',
      { noteId: whole, principal: 1_000_000 },
      { token: buyer.token },
    );
    expect(refused.status).to.equal(422);
    expect(refused.body.error.code).to.equal('NOTE_ENDED');
  });

  it('when a loan is checked, then reconcile finds a tampered asset amount and a tampered plan', async () => {
    const { loan } = await installmentLoan();
    const asset = (await Asset.findOne({ where: { loanId: loan.id }, order: [['id', 'ASC']] }))!;
    await testDb().query(
      'UPDATE assets SET principal = principal - 1, max_tradable_amount = max_tradable_amount - 1 WHERE id = $1',
      {
        bind: [asset.id],
      },
    );
    await testDb().query(
      `UPDATE repayment_plans SET principal = principal + 1 WHERE loan_id = $1 AND period = 2`,
      { bind: [loan.id] },
    );
    try {
      // The ledger audit flags the investor whose invested no longer matches its assets.
      const logged: Record<string, unknown>[] = [];
      const logger = {
        ...silentLogger,
        info: () => undefined,
        error: (o: Record<string, unknown>) => logged.push(o),
      };
      const summary = (await ledgerAuditProcessor(
        {},
        { job: {} as never, logger: logger as never, rt: m.rt },
      )) as { ok: boolean };
      expect(summary.ok).to.equal(false);
      expect(logged[0].investors).to.include(String(asset.userId));
      const checks = (await reconcile(testDb(), { loans: [loan.creditorNo] })).map((x) => x.check);
      expect(checks).to.include.members([
        'asset.amount_vs_rows',
        'loan.outstanding_vs_assets',
        'loan.plan_vs_holders',
        'loan.schedule_principal',
        'investor.invested_vs_assets',
      ]);
    } finally {
      await testDb().query(
        'UPDATE assets SET principal = principal + 1, max_tradable_amount = max_tradable_amount + 1 WHERE id = $1',
        {
          bind: [asset.id],
        },
      );
      await testDb().query(
        `UPDATE repayment_plans SET principal = principal - 1 WHERE loan_id = $1 AND period = 2`,
        { bind: [loan.id] },
      );
    }
    expect(await reconcile(testDb(), { loans: [loan.creditorNo] })).to.deep.equal([]);
  });
});
