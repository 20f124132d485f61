import { expect } from 'chai';
import fc from 'fast-check';
import sinon from 'sinon';
import { QueryTypes } from 'sequelize';
import { advanceClock, setClock } from '../../src/lib/clock';
import {
  allocateLoan,
  sweepAllocations,
  walkQueue,
} from '../../src/modules/auto-invest/allocation.service';
import {
  AutoInvestAllocation,
  AutoInvestRule,
} from '../../src/modules/auto-invest/auto-invest.model';
import { AllocationStatus } from '../../src/modules/auto-invest/auto-invest.states';
import { checkLedger } from '../../src/modules/ledger/ledger.service';
import { Loan } from '../../src/modules/loans/loan.model';
import { Order } from '../../src/modules/orders/order.model';
import { partnerIdentities } from '../../src/modules/orders/orders.service';
import { reconcile } from '../../src/modules/reconciliation/reconciliation.service';
import { QueueName } from '../../src/queues/queues';
import { eventually, type Api } from '../helpers/api';
import { testDb, testRuntime } from '../helpers/context';
import { loanBody, makeInvestor, signedPost, startMarket } from '../helpers/market';

const M = 1_000_000;

describe('auto-invest: standing rules buy new loans fairly, from the wallet', function () {
  this.timeout(120_000);
  let rt: ReturnType<typeof testRuntime>;
  let api: Api;
  let url: string;
  let stop: () => Promise<void>;

  before(async () => {
    ({ rt, url, api, stop } = await startMarket('auto-invest', {
      queues: [QueueName.Loans, QueueName.Orders, QueueName.Payments],
      overrides: { investorLimitAmount: 20n * BigInt(M) },
    }));
  });
  after(async () => {
    await AutoInvestRule.destroy({ where: {} });
    await stop();
  });
  // Rules are global: no other file's rule takes part here, and none of ours outlives its test.
  beforeEach(() => AutoInvestRule.destroy({ where: {} }));
  afterEach(() => AutoInvestRule.destroy({ where: {} }));

  const deps = () => ({ cipher: rt.cipher, partner: rt.ports.partner, config: rt.config });
  const put = (token: string, body: Record<string, unknown>) =>
    api.call('PUT', '/api/v1/me/auto-invest', { body, token });

  /** An investor with a wallet and an enabled rule (override any field). */
  async function ruler(
    rule: Record<string, unknown> = {},
    opts: Parameters<typeof makeInvestor>[1] = {},
  ) {
    const inv = await makeInvestor(rt, { wallet: 10n * BigInt(M), ...opts });
    const res = await put(inv.token, { enabled: true, amountPerLoan: M, ...rule });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return inv;
  }

  /** The partner sends a loan; the allocation job runs (Orders queue); waits until it is done. */
  async function publish(over: Record<string, unknown> = {}) {
    const body = loanBody({ amountApply: 10 * M, ...over });
    const res = await signedPost(url, '/partner/v1/loans', body, rt.config.partner.secret);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
    await eventually(
      async () => (await AutoInvestAllocation.findByPk(loan.id))?.status === AllocationStatus.Done,
    );
    return loan;
  }

  const history = async (token: string) => {
    const res = await api.get('/api/v1/me/auto-invest/history', { token });
    expect(res.status).to.equal(200);
    return res.body.items as {
      creditorNo: string;
      amount: number;
      outcome: string;
      reason: string | null;
      orderId: string | null;
    }[];
  };
  const wallet = async (userId: string) =>
    BigInt(
      (
        await testDb().query<{ b: string }>(
          `SELECT COALESCE((SELECT balance FROM accounts WHERE code = $1), 0)::text AS b`,
          { bind: [`investor:${userId}:available`], type: QueryTypes.SELECT },
        )
      )[0].b,
    );
  const clean = async (creditorNo: string) => {
    expect((await checkLedger()).ok, 'ledger').to.equal(true);
    expect(await reconcile(testDb(), { loans: [creditorNo] }), 'reconcile').to.deep.equal([]);
  };

  describe('the rule', () => {
    it('when an investor PUTs, GETs and DELETEs a rule, then it is stored with normalised rates and defaults, and removed', async () => {
      const inv = await makeInvestor(rt);
      expect((await api.get('/api/v1/me/auto-invest', { token: inv.token })).status).to.equal(404);
      const res = await put(inv.token, {
        enabled: true,
        amountPerLoan: 500_000,
        minYearRate: 10,
        maxYearRate: '14.25',
        maxTermDays: 90,
        riskLevels: ['A', 'B'],
        reserveBalance: 1_000_000,
        maxTotalInvested: 50_000_000,
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({
        enabled: true,
        amountPerLoan: 500_000,
        minYearRate: '10.0000',
        maxYearRate: '14.2500',
        maxTermDays: 90,
        reserveBalance: 1_000_000,
        maxTotalInvested: 50_000_000,
        lastServedAt: null,
      });
      expect(res.body.repaymentMethods).to.deep.equal([
        'bullet',
        'monthly_interest',
        'equal_installment',
      ]);
      expect(res.body.riskLevels).to.deep.equal(['A', 'B']);
      expect(res.body.enabledAt).to.be.a('string');
      const got = await api.get('/api/v1/me/auto-invest', { token: inv.token });
      expect(got.body).to.deep.equal(res.body);
      const del = await api.call('DELETE', '/api/v1/me/auto-invest', { token: inv.token });
      expect(del.status).to.equal(204);
      expect((await api.get('/api/v1/me/auto-invest', { token: inv.token })).status).to.equal(404);
      expect(
        (await api.call('DELETE', '/api/v1/me/auto-invest', { token: inv.token })).status,
      ).to.equal(204);
      expect((await api.get('/api/v1/me/auto-invest')).status).to.equal(401);
    });

    for (const [what, body, path] of [
      ['an amount off the step', { amountPerLoan: 150_000 }, 'amountPerLoan'],
      ['an amount below the minimum', { amountPerLoan: 0 }, 'amountPerLoan'],
      ['a rate range upside down', { minYearRate: 15, maxYearRate: 12 }, 'body'],
      ['an unknown repayment method', { repaymentMethods: ['balloon'] }, 'repaymentMethods.0'],
      ['an unknown field', { colour: 'red' }, 'colour'],
      ['a negative reserve', { reserveBalance: -1 }, 'reserveBalance'],
      ['a rate with five decimals', { minYearRate: '10.12345' }, 'minYearRate'],
    ] as const) {
      it(`when the rule has ${what}, then it is 400 naming ${path} and nothing is stored`, async () => {
        const inv = await makeInvestor(rt);
        const res = await put(inv.token, { enabled: true, amountPerLoan: M, ...body });
        expect(res.status, JSON.stringify(res.body)).to.equal(400);
        expect(res.body.error.code).to.equal('VALIDATION_ERROR');
        expect(res.body.error.details.map((d: { path: string }) => d.path)).to.include(path);
        expect(await AutoInvestRule.findByPk(inv.userId)).to.equal(null);
      });
    }

    it('when an investor without KYC or without a card enables a rule, then it is 422; a disabled rule may be saved', async () => {
      const noKyc = await makeInvestor(rt, { kyc: false, card: false });
      const a = await put(noKyc.token, { enabled: true, amountPerLoan: M });
      expect([a.status, a.body.error.code]).to.deep.equal([422, 'KYC_REQUIRED']);
      const noCard = await makeInvestor(rt, { card: false });
      const b = await put(noCard.token, { enabled: true, amountPerLoan: M });
      expect([b.status, b.body.error.code]).to.deep.equal([422, 'BANK_CARD_REQUIRED']);
      expect(
        await AutoInvestRule.count({ where: { userId: [noKyc.userId, noCard.userId] } }),
      ).to.equal(0);
      const off = await put(noKyc.token, { enabled: false, amountPerLoan: M });
      expect([off.status, off.body.enabled, off.body.enabledAt]).to.deep.equal([200, false, null]);
    });
  });

  describe('allocation', () => {
    it('when a loan opens, then only the rules that match it on every filter buy it (a month counts as 30 days)', async () => {
      const loanOver = {
        yearRateFin: '12.5',
        term: 3,
        termUnit: 'month',
        repaymentMethod: 'equal_installment',
        riskLevel: 'B',
      };
      const matching = {
        all: await ruler(),
        bounds: await ruler({
          minYearRate: '12.5',
          maxYearRate: '12.5',
          maxTermDays: 90,
          repaymentMethods: ['equal_installment'],
          riskLevels: ['B', 'C'],
        }),
      };
      const missing = {
        rateLow: await ruler({ minYearRate: '12.5001' }),
        rateHigh: await ruler({ maxYearRate: '12.4999' }),
        method: await ruler({ repaymentMethods: ['bullet', 'monthly_interest'] }),
        term: await ruler({ maxTermDays: 89 }),
        risk: await ruler({ riskLevels: ['A'] }),
        overShare: await ruler({ amountPerLoan: 5_100_000 }),
        disabled: await ruler({ enabled: false }),
      };
      const loan = await publish(loanOver);
      for (const [name, inv] of Object.entries(matching)) {
        const h = await history(inv.token);
        expect(h, name).to.have.length(1);
        expect(h[0], name).to.include({
          creditorNo: loan.creditorNo,
          amount: M,
          outcome: 'invested',
        });
      }
      for (const [name, inv] of Object.entries(missing))
        expect(await history(inv.token), name).to.deep.equal([]);
      expect((await Loan.findByPk(loan.id))!.boughtAmount).to.equal(2n * BigInt(M));
      await clean(loan.creditorNo);
    });

    it('when a rule cannot buy, then it is skipped with the reason, keeps its place, and the wallet never goes below the reserve', async () => {
      const reserve = 2 * M;
      const exact = await ruler({ reserveBalance: reserve }, { wallet: BigInt(reserve + M) });
      const short = await ruler({ reserveBalance: reserve }, { wallet: BigInt(reserve + M - 1) });
      const capped = await ruler({ maxTotalInvested: M }, { wallet: 10n * BigInt(M) });
      const big = await ruler({ amountPerLoan: 5 * M });
      const kycLost = await ruler();
      const partnerLoan = await ruler({}, { nikSerial: '9999' });
      await testDb().query(`UPDATE users SET kyc_status = 'manual_review' WHERE id = $1`, {
        bind: [kycLost.userId],
      });
      const first = await publish({ amountApply: 40 * M }); // 20 M for the rules: all reached
      expect(await history(exact.token)).to.have.length(1);
      expect((await history(exact.token))[0].outcome).to.equal('invested');
      expect(await wallet(exact.userId)).to.equal(BigInt(reserve));
      const reasons = async (inv: { token: string }) =>
        (await history(inv.token)).map((h) => h.reason);
      expect(await reasons(short)).to.deep.equal(['BELOW_RESERVE']);
      expect(await wallet(short.userId)).to.equal(BigInt(reserve + M - 1));
      expect(await reasons(kycLost)).to.deep.equal(['KYC_NOT_VERIFIED']);
      expect(await reasons(partnerLoan)).to.deep.equal(['HAS_PARTNER_LOAN']);
      expect((await history(capped.token))[0].outcome).to.equal('invested');
      expect((await history(big.token))[0].outcome).to.equal('invested');
      const skippedLine = (await history(short.token))[0];
      expect(skippedLine).to.include({
        creditorNo: first.creditorNo,
        amount: M,
        outcome: 'skipped',
        orderId: null,
      });

      // Second loan: `capped` holds 1 M, its rule's cap; `exact` is down to its reserve.
      const second = await publish({ amountApply: 40 * M });
      expect(await reasons(capped)).to.deep.equal(['OVER_MAX_TOTAL_INVESTED', null]);
      // The skipped rules kept their place: never served, they come first in the queue.
      const queue = await testDb().query<{ user_id: string }>(
        `SELECT user_id FROM auto_invest_rules WHERE status = 'enabled'
          ORDER BY served_seq NULLS FIRST, enabled_at, user_id`,
        { type: QueryTypes.SELECT },
      );
      expect(queue.slice(0, 3).map((r) => String(r.user_id))).to.deep.equal([
        short.userId,
        kycLost.userId,
        partnerLoan.userId,
      ]);
      await clean(first.creditorNo);
      await clean(second.creditorNo);
    });

    it('when the partner cannot be asked or the card is gone, then the rule is skipped (never taken as "no loan") and is first in line for the next loan', async () => {
      const unasked = await ruler();
      const noCard = await ruler();
      const other = await ruler();
      await testDb().query(`UPDATE bank_cards SET status = 'replaced' WHERE user_id = $1`, {
        bind: [noCard.userId],
      });
      const partner = rt.ports.partner;
      const stub = sinon.stub(partner, 'hasActiveLoan').callsFake(async function (
        this: typeof partner,
        person,
      ) {
        if (person.idCardNo === unaskedNik) throw new Error('partner timeout');
        return stub.wrappedMethod.call(this, person);
      });
      const unaskedNik = (await partnerIdentities(rt.cipher, [unasked.userId])).get(
        unasked.userId,
      )!.idCardNo;
      let first;
      try {
        first = await publish();
      } finally {
        stub.restore();
      }
      expect((await history(unasked.token))[0]).to.include({
        outcome: 'skipped',
        reason: 'PARTNER_CHECK_UNAVAILABLE',
      });
      expect((await history(noCard.token))[0]).to.include({
        outcome: 'skipped',
        reason: 'NO_BANK_CARD',
      });
      expect((await history(other.token))[0].outcome).to.equal('invested');
      // Next loan, the partner answers: the skipped rule was kept in front of the served one.
      await testDb().query(`UPDATE bank_cards SET status = 'active' WHERE user_id = $1`, {
        bind: [noCard.userId],
      });
      const second = await publish({ amountApply: 4 * M }); // 2 M: two slices
      expect((await history(unasked.token))[0]).to.include({
        creditorNo: second.creditorNo,
        outcome: 'invested',
      });
      expect((await history(noCard.token))[0]).to.include({
        creditorNo: second.creditorNo,
        outcome: 'invested',
      });
      expect((await history(other.token))[0].creditorNo).to.equal(first.creditorNo);
      await clean(second.creditorNo);
    });

    it('when an investor is at the investor limit, then the rule is skipped with OVER_LIMIT', async () => {
      // 20 M limit: four 5 M slices fit on four loans; a fifth would take the investor past it.
      const inv = await ruler({ amountPerLoan: 5 * M }, { wallet: 40n * BigInt(M) });
      const loans = [];
      for (let i = 0; i < 4; i++) loans.push(await publish());
      const h = await history(inv.token);
      expect(h.map((x) => x.outcome).reverse()).to.deep.equal([
        'invested',
        'invested',
        'invested',
        'invested',
      ]);
      const fifth = await publish();
      expect((await history(inv.token))[0]).to.include({
        creditorNo: fifth.creditorNo,
        outcome: 'skipped',
        reason: 'OVER_LIMIT',
      });
      for (const l of [...loans, fifth]) await clean(l.creditorNo);
    });

    it('when more rules match than the share allows, then AUTO_INVEST_MAX_SHARE is placed, manual buyers take the rest, and the rules not reached come first next time', async () => {
      const rules = [];
      for (let i = 0; i < 8; i++) rules.push(await ruler());
      const loan = await publish(); // 10 M: 5 M for the rules
      const served = [];
      for (const r of rules) served.push((await history(r.token)).length);
      expect(served).to.deep.equal([1, 1, 1, 1, 1, 0, 0, 0]);
      const allocation = (await AutoInvestAllocation.findByPk(loan.id))!;
      expect([allocation.shareCap, allocation.allocated]).to.deep.equal([
        5n * BigInt(M),
        5n * BigInt(M),
      ]);
      // The rest is for manual buyers.
      const buyer = await makeInvestor(rt, { wallet: 5n * BigInt(M) });
      const o = await api.post(
        '/api/v1/orders',
        { creditorNo: loan.creditorNo, amount: 5 * M, payWith: 'wallet' },
        { token: buyer.token },
      );
      expect(o.status).to.equal(202);
      await eventually(async () => (await Order.findByPk(o.body.id))!.status === 'paid');
      expect((await Loan.findByPk(loan.id))!.boughtAmount).to.equal(10n * BigInt(M));
      // Next loan: the three not reached first, then the first two served.
      const next = await publish();
      const served2 = [];
      for (const r of rules)
        served2.push(
          (await history(r.token)).filter((h) => h.creditorNo === next.creditorNo).length,
        );
      expect(served2).to.deep.equal([1, 1, 0, 0, 0, 1, 1, 1]);
      await clean(loan.creditorNo);
      await clean(next.creditorNo);
    });

    it('when auto orders are made, then they are ordinary paid wallet orders with source auto, in the order and the investment list', async () => {
      const inv = await ruler();
      const loan = await publish();
      const [line] = await history(inv.token);
      const order = await api.get(`/api/v1/orders/${line.orderId}`, { token: inv.token });
      expect(order.body).to.include({
        source: 'auto',
        payWith: 'wallet',
        status: 'paid',
        amount: M,
      });
      const manual = await api.post(
        '/api/v1/orders',
        { creditorNo: loan.creditorNo, amount: M, payWith: 'wallet' },
        { token: inv.token },
      );
      await eventually(async () => (await Order.findByPk(manual.body.id))!.status === 'paid');
      const list = await api.get('/api/v1/me/orders', { token: inv.token });
      expect(
        list.body.items.map((i: { id: string; source: string }) => [i.id, i.source]),
      ).to.have.deep.members([
        [line.orderId, 'auto'],
        [manual.body.id, 'manual'],
      ]);
      expect(
        (await api.get(`/api/v1/orders/${manual.body.id}`, { token: inv.token })).body.source,
      ).to.equal('manual');
      await clean(loan.creditorNo);
    });

    it('when the allocation races manual orders on one loan and runs twice at once, then the loan is never oversold and every rule gets at most one slice', async () => {
      const rules = [];
      for (let i = 0; i < 12; i++) rules.push(await ruler({ amountPerLoan: 500_000 }));
      const buyers = [];
      for (let i = 0; i < 12; i++) buyers.push(await makeInvestor(rt, { wallet: 2n * BigInt(M) }));
      const orders = rt.queues.get(QueueName.Orders)!;
      await orders.pause();
      const body = loanBody({ amountApply: 8 * M });
      await signedPost(url, '/partner/v1/loans', body, rt.config.partner.secret);
      const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
      const placed = await Promise.all(
        buyers.map((b) =>
          api.post(
            '/api/v1/orders',
            { creditorNo: loan.creditorNo, amount: M, payWith: 'wallet' },
            { token: b.token },
          ),
        ),
      );
      // Two runs of the allocation (a duplicate job) and the lock jobs, all at once.
      await Promise.all([
        allocateLoan(deps(), loan.id),
        allocateLoan(deps(), loan.id),
        orders.resume(),
      ]);
      await eventually(async () =>
        (
          await Promise.all(placed.map(async (p) => (await Order.findByPk(p.body.id))!.status))
        ).every((s) => s !== 'pending'),
      );
      const after = (await Loan.findByPk(loan.id))!;
      expect(after.lockedAmount + after.boughtAmount <= after.amount).to.equal(true);
      const auto = await Order.findAll({ where: { loanId: loan.id, source: 'auto' } });
      expect(new Set(auto.map((o) => o.userId)).size).to.equal(auto.length);
      const paidAuto = auto.filter((o) => o.status === 'paid').reduce((s, o) => s + o.amount, 0n);
      expect(paidAuto <= 4n * BigInt(M)).to.equal(true);
      expect((await AutoInvestAllocation.findByPk(loan.id))!.allocated).to.equal(paidAuto);
      const paidAll = (await Order.findAll({ where: { loanId: loan.id, status: 'paid' } })).reduce(
        (s, o) => s + o.amount,
        0n,
      );
      expect(paidAll).to.equal(after.boughtAmount);
      await clean(loan.creditorNo);
    });

    it('when the allocation job is lost, then recovery finds the pending allocation from PostgreSQL and it completes', async () => {
      const inv = await ruler();
      const orders = rt.queues.get(QueueName.Orders)!;
      await orders.pause();
      const body = loanBody({ amountApply: 10 * M });
      await signedPost(url, '/partner/v1/loans', body, rt.config.partner.secret);
      const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
      await orders.obliterate({ force: true }); // the job is gone
      // Other files' loans whose allocation job never ran (no Orders worker there) stay out of it.
      await testDb().query(
        `UPDATE auto_invest_allocations SET status = 'done' WHERE status = 'pending' AND loan_id <> $1`,
        { bind: [loan.id] },
      );
      expect((await AutoInvestAllocation.findByPk(loan.id))!.status).to.equal('pending');
      try {
        advanceClock((rt.config.recoveryGraceSeconds + 1) * 1000);
        expect(await sweepAllocations(rt.queues, rt.config.recoveryGraceSeconds)).to.be.greaterThan(
          0,
        );
      } finally {
        setClock();
      }
      await orders.resume();
      await eventually(
        async () => (await AutoInvestAllocation.findByPk(loan.id))!.status === 'done',
      );
      expect(await history(inv.token)).to.have.length(1);
      expect((await history(inv.token))[0]).to.include({
        creditorNo: loan.creditorNo,
        outcome: 'invested',
      });
      await clean(loan.creditorNo);
    });

    it('when the loan is past its deadline before the job runs, then the allocation ends without orders', async () => {
      const inv = await ruler();
      const orders = rt.queues.get(QueueName.Orders)!;
      await orders.pause();
      const body = loanBody({
        publishedAt: new Date(
          Date.now() - (rt.config.settlementDelaySeconds + 60) * 1000,
        ).toISOString(),
      });
      await signedPost(url, '/partner/v1/loans', body, rt.config.partner.secret);
      const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
      const r = await allocateLoan(deps(), loan.id);
      await orders.resume();
      expect(r).to.deep.equal({ status: 'done', orders: 0, skipped: 0 });
      expect(await history(inv.token)).to.deep.equal([]);
    });
  });

  describe('fairness', () => {
    it('property: over any sequence of loans, each loan serves the front of the queue and no investor is served twice before every eligible investor was served once', async () => {
      const shareSteps = fc.integer({ min: 1, max: 4 }); // slice = k × 500 k
      await fc.assert(
        fc.asyncProperty(
          fc.array(shareSteps, { minLength: 2, maxLength: 6 }),
          fc.array(fc.integer({ min: 4, max: 24 }), { minLength: 2, maxLength: 6 }),
          fc.integer({ min: 0, max: 1 }),
          async (slices, loanSizes, broke) => {
            await AutoInvestRule.destroy({ where: {} });
            const investors: {
              userId: string;
              token: string;
              amount: bigint;
              eligible: boolean;
            }[] = [];
            for (const [i, k] of slices.entries())
              investors.push({
                ...(await ruler(
                  { amountPerLoan: k * 500_000 },
                  { wallet: i < broke ? 1n : 100n * BigInt(M) },
                )),
                amount: BigInt(k * 500_000),
                eligible: i >= broke,
              });
            // The model: the queue in the test, walked with the same rule.
            let queue = [...investors];
            const served = new Map(investors.map((v) => [v.userId, 0]));
            for (const size of loanSizes) {
              const loan = await publish({ amountApply: size * 500_000 });
              const cap = (BigInt(size) * 500_000n) / 2n;
              const matching = queue.filter((v) => v.amount <= cap);
              const expected = walkQueue(
                matching.map((v) => ({
                  userId: v.userId,
                  amount: v.amount,
                  skip: v.eligible ? undefined : ('BELOW_RESERVE' as never),
                })),
                cap,
              ).served.map((e) => e.userId);
              const actual = (
                await Order.findAll({
                  where: { loanId: loan.id, source: 'auto', status: 'paid' },
                  order: [['id', 'ASC']],
                })
              ).map((o) => String(o.userId));
              expect(actual).to.deep.equal(expected);
              for (const u of actual) served.set(u, served.get(u)! + 1);
              queue = [
                ...queue.filter((v) => !actual.includes(v.userId)),
                ...actual.map((u) => investors.find((v) => v.userId === u)!),
              ];
              // Among eligible investors whose slice fits every loan so far, counts differ by ≤ 1.
              const always = investors.filter(
                (v) =>
                  v.eligible && loanSizes.every((s) => v.amount <= (BigInt(s) * 500_000n) / 2n),
              );
              const counts = always.map((v) => served.get(v.userId)!);
              if (counts.length > 0)
                expect(Math.max(...counts) - Math.min(...counts)).to.be.at.most(1);
            }
          },
        ),
        { numRuns: 12, seed: 1414 },
      );
      expect((await checkLedger()).ok).to.equal(true);
    });
  });
});
