import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { setClock } from '../../src/lib/clock';
import {
  accountCode,
  investorAccount,
  type AccountRef,
} from '../../src/modules/ledger/ledger.accounts';
import { checkLedger, getBalances } from '../../src/modules/ledger/ledger.service';
import type { Loan } from '../../src/modules/loans/loan.model';
import { Asset } from '../../src/modules/assets/asset.model';
import { reconcile } from '../../src/modules/reconciliation/reconciliation.service';
import { RepaymentPlan, RepaymentSchedule } from '../../src/modules/schedules/schedule.model';
import { CreditOrder } from '../../src/modules/transfers/credit-order.model';
import { QueueName } from '../../src/queues/queues';
import { eventually } from '../helpers/api';
import { testDb } from '../helpers/context';
import {
  disbursedLoan,
  makeInvestor,
  reportRepayment,
  settledRepayment,
  startMarket,
  type Market,
} from '../helpers/market';

const ROOT = path.resolve(__dirname, '..', '..');

describe('a loan’s whole life: installments, a partial sale of a partly repaid asset, a full sale, early payoff', function () {
  this.timeout(120_000);
  let m: Market;

  before(async () => {
    m = await startMarket('whole-life', {
      queues: [QueueName.Orders, QueueName.Payments, QueueName.Loans, QueueName.Transfers],
    });
  });
  after(async () => {
    setClock();
    await m.stop();
  });

  const bal = async (ref: AccountRef) => (await getBalances([ref])).get(accountCode(ref))!;
  /** The clock at 10:00 Jakarta on a calendar date (it keeps running from there). */
  const at = (date: string) =>
    setClock({ offsetMs: Date.parse(`${date}T10:00:00+07:00`) - Date.now() });
  const addDays = (date: string, days: number) =>
    new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

  /** After every step: the books, reconcile, and the loan's holders against its plan. */
  async function expectWholeLifeInvariants(loan: Loan, step: string) {
    const ledger = await checkLedger();
    expect(ledger.ok, `${step}: ledger`).to.equal(true);
    expect(
      await reconcile(testDb(), { loans: [loan.creditorNo] }),
      `${step}: reconcile`,
    ).to.deep.equal([]);
    const outstanding = (
      await RepaymentPlan.findAll({ where: { loanId: loan.id, status: 'pending' } })
    ).reduce((s, p) => s + p.principal, 0n);
    const assets = await Asset.findAll({ where: { loanId: loan.id } });
    expect(
      assets.reduce((s, a) => s + a.principal, 0n),
      `${step}: holders = outstanding`,
    ).to.equal(outstanding);
    for (const a of assets) {
      const unpaid = (
        await RepaymentSchedule.findAll({ where: { assetId: a.id, status: 'pending' } })
      ).reduce((s, r) => s + r.principal, 0n);
      expect(a.principal, `${step}: asset ${a.id} = its unpaid rows`).to.equal(unpaid);
      expect(
        (await bal(investorAccount(a.userId, 'invested'))) >= a.principal,
        `${step}: invested`,
      ).to.equal(true);
    }
  }

  /** The partner repays `period` at the plan's figures (or as `over` says); it must clear. */
  async function repay(loan: Loan, period: number, over: Record<string, unknown> = {}) {
    const r = await settledRepayment(await reportRepayment(m, loan, period, over));
    expect([r.status, r.holdReason]).to.deep.equal(['cleared', null]);
  }

  async function sell(
    seller: { token: string },
    assetId: string,
    amount: number,
    buyer: { token: string },
  ) {
    const note = await m.api.post(
      '/api/v1/credit-notes',
      { assetId, amount, discountRate: '1' },
      { token: seller.token },
    );
    expect(note.status, JSON.stringify(note.body)).to.equal(201);
    const order = await m.api.post(
      '/api/v1/credit-orders',
      { noteId: note.body.id, principal: amount },
      { token: buyer.token },
    );
    expect(order.status, JSON.stringify(order.body)).to.equal(202);
    await eventually(async () =>
      ['success', 'failed'].includes((await CreditOrder.findByPk(order.body.id))!.status),
    );
    const done = (await CreditOrder.findByPk(order.body.id))!;
    expect([done.status, done.failReason]).to.deep.equal(['success', null]);
    return done;
  }

  it('keeps every rupiah in place from intake to payoff', async () => {
    // 12,000,000 in 6 equal installments, 18% for the borrower, 12% for investors: A 4 M (wallet),
    // B 3 M (card), C 2 M (wallet); the super investor tops up the last 3 M.
    const { loan, investors } = await disbursedLoan(
      m,
      {
        amountApply: 12_000_000,
        serviceFee: 240_000,
        yearRateLoan: '18',
        yearRateFin: '12',
        term: 6,
        termUnit: 'month',
        repaymentMethod: 'equal_installment',
      },
      [
        { amount: 4_000_000, pay: 'wallet' },
        { amount: 3_000_000, pay: 'card' },
        { amount: 2_000_000, pay: 'wallet' },
      ],
    );
    const [a, b] = investors;
    expect(await Asset.count({ where: { loanId: loan.id } })).to.equal(4);
    await expectWholeLifeInvariants(loan, 'disbursed');
    const plan = await RepaymentPlan.findAll({
      where: { loanId: loan.id },
      order: [['period', 'ASC']],
    });

    // Period 1, repaid on its due date at the plan's amounts.
    at(plan[0].dueDate);
    await repay(loan, 1);
    await expectWholeLifeInvariants(loan, 'period 1');
    const assetA = (await Asset.findOne({ where: { loanId: loan.id, userId: a.userId } }))!;
    expect(assetA.principal < 4_000_000n).to.equal(true);

    // Five days later A sells 1,000,000 of what it still holds to E.
    at(addDays(plan[0].dueDate, 5));
    const e = await makeInvestor(m.rt, { wallet: 2_000_000n });
    const partial = await sell(a, assetA.id, 1_000_000, e);
    await assetA.reload();
    const assetE = (await Asset.findByPk(partial.buyerAssetId!))!;
    expect(assetE.principal).to.equal(1_000_000n);
    await expectWholeLifeInvariants(loan, 'partial sale');

    // Period 2 pays seller and buyer by their rows.
    const [rowA2, rowE2] = await Promise.all(
      [assetA.id, assetE.id].map(
        async (id) => (await RepaymentSchedule.findOne({ where: { assetId: id, period: 2 } }))!,
      ),
    );
    const beforeA = await bal(investorAccount(a.userId, 'available'));
    const beforeE = await bal(investorAccount(e.userId, 'available'));
    at(plan[1].dueDate);
    await repay(loan, 2);
    expect((await bal(investorAccount(a.userId, 'available'))) - beforeA).to.equal(
      rowA2.principal + rowA2.interest,
    );
    expect((await bal(investorAccount(e.userId, 'available'))) - beforeE).to.equal(
      rowE2.principal + rowE2.interest,
    );
    // E's interest for period 2 is 1% of the 1,000,000 it held that month.
    expect(rowE2.interest).to.equal(10_000n);
    await expectWholeLifeInvariants(loan, 'period 2');

    // B sells everything it still holds to F.
    at(addDays(plan[1].dueDate, 5));
    const assetB = (await Asset.findOne({ where: { loanId: loan.id, userId: b.userId } }))!;
    const f = await makeInvestor(m.rt, { wallet: 3_000_000n });
    const full = await sell(b, assetB.id, Number(assetB.principal), f);
    expect((await assetB.reload()).status).to.equal('transferred');
    expect(await bal(investorAccount(b.userId, 'invested'))).to.equal(0n);
    expect(full.principal).to.equal((await Asset.findByPk(full.buyerAssetId!))!.principal);
    await expectWholeLifeInvariants(loan, 'full sale');

    // Ten days into period 3 the borrower pays everything off.
    at(addDays(plan[1].dueDate, 10));
    const outstanding = plan.slice(2).reduce((s, p) => s + p.principal, 0n);
    await repay(loan, 3, { payoff: true, principal: Number(outstanding) });
    expect((await loan.reload()).status).to.equal('repaid');
    await expectWholeLifeInvariants(loan, 'payoff');
    for (const inv of [a, b, e, f])
      expect(await bal(investorAccount(inv.userId, 'invested')), inv.userId).to.equal(0n);
    const b2 = await m.api.get('/api/v1/me/orders?status=2', { token: b.token });
    expect(b2.body.items.map((x: { market: string }) => x.market)).to.deep.equal(['primary']);

    // The finance CLI says the same.
    setClock();
    const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
    for (const args of [['ledger:check'], ['reconcile', '--loan', loan.creditorNo]]) {
      const res = spawnSync(tsx, ['scripts/finance.ts', ...args, '--operator', 'whole-life'], {
        cwd: ROOT,
        env: process.env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(res.status, `${args[0]}: ${res.stdout}${res.stderr}`).to.equal(0);
    }
  });
});
