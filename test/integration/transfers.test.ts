import { expect } from 'chai';
import { PaymentInstruction } from '../../src/modules/payments/payment.model';
import { queryInstruction } from '../../src/modules/payments/payments.service';
import sinon from 'sinon';
import { Op } from 'sequelize';
import { Loan } from '../../src/modules/loans/loan.model';
import { Asset } from '../../src/modules/assets/asset.model';
import { Order } from '../../src/modules/orders/order.model';
import { settleLoan } from '../../src/modules/settlement/settlement.service';
import { CreditNote } from '../../src/modules/transfers/credit-note.model';
import { expireNotes } from '../../src/modules/transfers/notes.service';
import { CreditOrder } from '../../src/modules/transfers/credit-order.model';
import {
  confirmCreditOrder,
  sweepCreditOrders,
} from '../../src/modules/transfers/credit-order-confirmation.service';
import { creditOrderView } from '../../src/modules/transfers/credit-order-placement.service';
import { RepaymentSchedule } from '../../src/modules/schedules/schedule.model';
import {
  AccountType,
  accountCode,
  investorAccount,
  platformAccount,
} from '../../src/modules/ledger/ledger.accounts';
import { getBalances } from '../../src/modules/ledger/ledger.service';
import { QueueName } from '../../src/queues/queues';
import { advanceClock, setClock } from '../../src/lib/clock';
import { eventually, type Api } from '../helpers/api';
import { testRuntime } from '../helpers/context';
import { loanBody, makeInvestor, signedPost, startMarket } from '../helpers/market';

describe('secondary market: assets and notes', function () {
  this.timeout(30_000);
  let rt: ReturnType<typeof testRuntime>;
  let api: Api;
  let url: string;
  let stop: () => Promise<void>;

  before(async () => {
    ({ rt, url, api, stop } = await startMarket('transfers', {
      queues: [QueueName.Orders, QueueName.Payments, QueueName.Transfers, QueueName.Loans],
      gateway: { sandboxDelayMs: 10 },
    }));
  });
  after(async () => stop());
  const confirmDeps = () => ({ partner: rt.ports.partner, cipher: rt.cipher, config: rt.config });

  const DAY = 86_400_000;
  afterEach(() => setClock());

  /** An investor holding 1,000,000 of a repaying 30-day loan; the clock then 5 days on (next repayment in 25). */
  async function holder() {
    setClock();
    const body = loanBody({ amountApply: 1_000_000, serviceFee: 0, yearRateFin: '12', term: 30 });
    expect(
      (await signedPost(url, '/partner/v1/loans', body, rt.config.partner.secret)).status,
    ).to.equal(201);
    const inv = await makeInvestor(rt, { wallet: 1_000_000n });
    const res = await api.post(
      '/api/v1/orders',
      { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'wallet' },
      { token: inv.token },
    );
    await eventually(async () => (await Order.findByPk(res.body.id))!.status === 'paid');
    const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
    await settleLoan({ config: rt.config }, loan.id);
    await eventually(async () => (await loan.reload()).status === 'repaying');
    const asset = (await Asset.findOne({ where: { orderId: res.body.id } }))!;
    setClock({ offsetMs: 5 * DAY });
    return { inv, asset, loan, body };
  }

  it('when an investor lists assets, then the transferable one shows with its totals and the detail has its schedule', async () => {
    const { inv, asset, body } = await holder();
    const all = await api.get('/api/v1/me/assets', { token: inv.token });
    expect(all.body.items).to.have.length(1);
    expect(all.body.items[0]).to.include({
      id: String(asset.id),
      creditorNo: body.creditorNo,
      amount: 1_000_000,
      maxTradableAmount: 1_000_000,
      tradeCount: 0,
      status: 'holding',
    });
    const transferable = await api.get('/api/v1/me/assets?type=transferable', { token: inv.token });
    expect(transferable.body).to.include({ total: 1, creditAmount: 1_000_000 });
    const detail = await api.get(`/api/v1/me/assets/${asset.id}`, { token: inv.token });
    expect(detail.body.schedule).to.have.length(1);
    expect(detail.body.schedule[0]).to.include({
      period: 1,
      principal: 1_000_000,
      interest: 9_863,
      status: 'pending',
    });
    const other = await makeInvestor(rt);
    expect(
      (await api.get(`/api/v1/me/assets/${asset.id}`, { token: other.token })).status,
    ).to.equal(404);
  });

  it('when a note is calculated, then the rules are checked and the interest and price come back', async () => {
    const { inv, asset } = await holder();
    const ok = await api.post(
      '/api/v1/credit-notes/calc',
      { assetId: String(asset.id), amount: 500_000, discountRate: 2 },
      { token: inv.token },
    );
    expect(ok.status).to.equal(200);
    // Half of the period's 9,863 is 4,931: what the buyer owes now plus what is still to come.
    expect(ok.body).to.include({
      amount: 500_000,
      discountRate: '2.0000',
      maxTradableAmount: 1_000_000,
    });
    expect(ok.body.currentInterest + ok.body.remainingInterest).to.equal(4_931);
    expect(ok.body.price).to.equal(Math.floor((500_000 + ok.body.currentInterest) * 0.98));
    const step = await api.post(
      '/api/v1/credit-notes/calc',
      { assetId: String(asset.id), amount: 150_000 },
      { token: inv.token },
    );
    expect(step.status).to.equal(422);
    expect(step.body.error.code).to.equal('AMOUNT_NOT_INCREMENT');
    setClock({ offsetMs: 1 * DAY });
    const young = await api.post(
      '/api/v1/credit-notes/calc',
      { assetId: String(asset.id), amount: 500_000 },
      { token: inv.token },
    );
    expect(young.body.error.code).to.equal('HOLD_DAYS_NOT_REACHED');
  });

  it('when notes are made, then the tradable amount shrinks, two notes never exceed the asset, and the lists show them', async () => {
    const { inv, asset } = await holder();
    const [a, b] = await Promise.all([
      api.post(
        '/api/v1/credit-notes',
        { assetId: String(asset.id), amount: 600_000 },
        { token: inv.token },
      ),
      api.post(
        '/api/v1/credit-notes',
        { assetId: String(asset.id), amount: 600_000 },
        { token: inv.token },
      ),
    ]);
    expect([a.status, b.status].sort()).to.deep.equal([201, 422]);
    const refused = a.status === 422 ? a : b;
    expect(refused.body.error.code).to.equal('AMOUNT_OVER_TRADABLE');
    expect((await asset.reload()).maxTradableAmount).to.equal(400_000n);
    const rest = await api.post(
      '/api/v1/credit-notes',
      { assetId: String(asset.id), amount: 400_000, discountRate: '1.5' },
      { token: inv.token },
    );
    expect(rest.status).to.equal(201);
    expect(rest.body).to.include({
      amount: 400_000,
      tradedAmount: 0,
      discountRate: '1.5000',
      isClosed: false,
      isCancelled: false,
    });
    expect((await asset.reload()).maxTradableAmount).to.equal(0n);
    const note = (await CreditNote.findByPk(rest.body.id))!;
    expect(note.config).to.include({
      trade_count_limit: 3,
      holdDays: 3,
      duration: 3,
      fee_rate: '0.005',
    });
    const selling = await api.get('/api/v1/me/credit-notes?type=2', { token: inv.token });
    expect(selling.body.stats).to.deep.equal({
      type: 2,
      totalCount: 2,
      tradedTotalAmount: 0,
      tradingTotalAmount: 1_000_000,
    });
    expect(
      (await api.get('/api/v1/me/assets?type=transferring', { token: inv.token })).body.total,
    ).to.equal(1);
    expect(
      (await api.get('/api/v1/me/assets?type=transferable', { token: inv.token })).body.total,
    ).to.equal(0);
    const market = await api.get('/api/v1/credit-notes?pageSize=100', { token: inv.token });
    expect(market.body.items.map((n: { id: string }) => n.id)).to.include(rest.body.id);
    const long = await api.get(`/api/v1/credit-notes/${rest.body.id}?isLong=true`, {
      token: inv.token,
    });
    expect(long.body).to.have.keys([
      'id',
      'assetId',
      'creditorNo',
      'amount',
      'tradedAmount',
      'discountRate',
      'isClosed',
      'isCancelled',
      'endTime',
      'currentInterest',
      'remainingInterest',
    ]);
    expect(long.body.currentInterest + long.body.remainingInterest).to.equal(
      Math.floor((9_863 * 400_000) / 1_000_000),
    );
  });

  it('when the seller cancels, then the unsold part returns to the asset; a second cancel is 409; another investor gets 404', async () => {
    const { inv, asset } = await holder();
    const note = await api.post(
      '/api/v1/credit-notes',
      { assetId: String(asset.id), amount: 1_000_000 },
      { token: inv.token },
    );
    const other = await makeInvestor(rt);
    expect(
      (await api.call('DELETE', `/api/v1/credit-notes/${note.body.id}`, { token: other.token }))
        .status,
    ).to.equal(404);
    const cancelled = await api.call('DELETE', `/api/v1/credit-notes/${note.body.id}`, {
      token: inv.token,
    });
    expect(cancelled.body).to.include({ isClosed: true, isCancelled: true });
    expect((await asset.reload()).maxTradableAmount).to.equal(1_000_000n);
    const again = await api.call('DELETE', `/api/v1/credit-notes/${note.body.id}`, {
      token: inv.token,
    });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('NOTE_CLOSED');
  });

  it('when a note reaches its end time, then the sweeper closes it and the asset may be offered again', async () => {
    const { inv, asset } = await holder();
    const note = await api.post(
      '/api/v1/credit-notes',
      { assetId: String(asset.id), amount: 1_000_000 },
      { token: inv.token },
    );
    advanceClock(rt.config.market.noteLifetimeHours * 3_600_000 + 1_000);
    expect(await expireNotes()).to.be.greaterThan(0);
    expect((await CreditNote.findByPk(note.body.id))!.status).to.equal('expired');
    expect((await asset.reload()).maxTradableAmount).to.equal(1_000_000n);
    expect(
      (
        await api.post(
          '/api/v1/credit-notes',
          { assetId: String(asset.id), amount: 1_000_000 },
          { token: inv.token },
        )
      ).status,
    ).to.equal(201);
  });

  describe('credit orders', () => {
    const bal = async (userId: string, kind: 'available' | 'locked' | 'invested') =>
      (await getBalances([investorAccount(userId, kind)])).get(
        accountCode(investorAccount(userId, kind)),
      )!;
    const settled = async (id: string) => {
      await eventually(async () =>
        ['success', 'failed'].includes((await CreditOrder.findByPk(id))!.status),
      );
      return (await CreditOrder.findByPk(id))!;
    };
    async function noteOf(amount: number, discountRate = '2') {
      const h = await holder();
      const res = await api.post(
        '/api/v1/credit-notes',
        { assetId: String(h.asset.id), amount, discountRate },
        { token: h.inv.token },
      );
      expect(res.status).to.equal(201);
      return { ...h, noteId: res.body.id as string };
    }

    it('when a buyer takes part of a note, then the asset, the note, the ledger and the schedule are split exactly', async () => {
      const { inv: seller, asset, noteId, body, loan } = await noteOf(600_000);
      const buyer = await makeInvestor(rt, { wallet: 1_000_000n });
      const calc = await api.post(
        '/api/v1/credit-orders/calc',
        { noteId, principal: 300_000 },
        { token: buyer.token },
      );
      expect(calc.status).to.equal(200);
      expect(calc.body.fee).to.equal(1_500);
      expect(calc.body.payAmount).to.equal(Math.floor((300_000 + calc.body.interest) * 0.98));
      const sellerBefore = await bal(seller.userId, 'available');
      const feeBefore = (await getBalances([platformAccount(AccountType.RevenueTransferFee)])).get(
        'revenue:transfer_fee',
      )!;
      const res = await api.post(
        '/api/v1/credit-orders',
        { noteId, principal: 300_000 },
        { token: buyer.token },
      );
      expect(res.status).to.equal(202);
      const o = await settled(res.body.id);
      expect(creditOrderView(o)).to.include({
        status: 'success',
        buyerPaymentStatus: 1,
        sellerRefundStatus: 1,
        principal: 300_000,
      });
      // Buyer and seller see the credit order; a third investor gets 404.
      for (const who of [buyer, seller])
        expect(
          (await api.get(`/api/v1/credit-orders/${res.body.id}`, { token: who.token })).status,
        ).to.equal(200);
      const stranger = await makeInvestor(rt);
      expect(
        (await api.get(`/api/v1/credit-orders/${res.body.id}`, { token: stranger.token })).status,
      ).to.equal(404);
      const pay = o.payAmount;
      expect(await bal(buyer.userId, 'available')).to.equal(1_000_000n - pay);
      expect(await bal(buyer.userId, 'locked')).to.equal(0n);
      expect(await bal(buyer.userId, 'invested')).to.equal(300_000n);
      expect((await bal(seller.userId, 'available')) - sellerBefore).to.equal(pay - 1_500n);
      expect(await bal(seller.userId, 'invested')).to.equal(700_000n);
      expect(
        (await getBalances([platformAccount(AccountType.RevenueTransferFee)])).get(
          'revenue:transfer_fee',
        )! - feeBefore,
      ).to.equal(1_500n);
      expect((await asset.reload()).principal).to.equal(700_000n);
      const bought = (await Asset.findByPk(o.buyerAssetId!))!;
      expect([bought.principal, bought.tradeCount, bought.parentAssetId]).to.deep.equal([
        300_000n,
        1,
        asset.id,
      ]);
      expect((await CreditNote.findByPk(noteId))!.tradedAmount).to.equal(300_000n);
      const rows = await RepaymentSchedule.findAll({
        where: { loanId: loan.id },
        order: [['userId', 'ASC']],
      });
      const sellerRow = rows.find((r) => String(r.userId) === seller.userId)!;
      const buyerRow = rows.find((r) => String(r.userId) === buyer.userId)!;
      // Interest at 12% for 30 days on what each holds: floor(300,000 × 0.12 × 30/365) = 2,958,
      // floor(700,000 × …) = 6,904.
      expect([buyerRow.principal, buyerRow.interest]).to.deep.equal([300_000n, 2_958n]);
      expect([sellerRow.principal, sellerRow.interest]).to.deep.equal([700_000n, 6_904n]);

      // The repayment at the plan's figures (interest at 18%: floor(1,000,000 × 0.18 × 30/365) =
      // 14,794) pays each by its rows; the rest of the interest is spread.
      const spreadBefore = (await getBalances([platformAccount(AccountType.RevenueSpread)])).get(
        'revenue:spread',
      )!;
      const report = {
        creditorNo: body.creditorNo,
        period: 1,
        repaymentNo: `TR-${body.creditorNo}`,
        principal: 1_000_000,
        interest: 14_794,
        lateFee: 0,
        overdueServiceFee: 0,
        paidAt: new Date().toISOString(),
      };
      const sellerMid = await bal(seller.userId, 'available');
      const buyerMid = await bal(buyer.userId, 'available');
      expect(
        (await signedPost(url, '/partner/v1/repayments', report, rt.config.partner.secret)).status,
      ).to.equal(201);
      await eventually(async () => (await loan.reload()).status === 'repaid');
      expect((await bal(buyer.userId, 'available')) - buyerMid).to.equal(302_958n);
      expect((await bal(seller.userId, 'available')) - sellerMid).to.equal(706_904n);
      expect(
        (await getBalances([platformAccount(AccountType.RevenueSpread)])).get('revenue:spread')! -
          spreadBefore,
      ).to.equal(14_794n - 2_958n - 6_904n);
      expect([(await asset.reload()).principal, (await bought.reload()).principal]).to.deep.equal([
        0n,
        0n,
      ]);
      expect(await bal(buyer.userId, 'invested')).to.equal(0n);
    });

    it('when a buyer takes the whole asset, then the schedule moves to the buyer and the seller’s asset is invalidated', async () => {
      const { inv: seller, asset, noteId, loan } = await noteOf(1_000_000, '0');
      const buyer = await makeInvestor(rt, { wallet: 1_100_000n });
      const res = await api.post(
        '/api/v1/credit-orders',
        { noteId, principal: 1_000_000 },
        { token: buyer.token },
      );
      const o = await settled(res.body.id);
      expect(o.status).to.equal('success');
      expect((await asset.reload()).status).to.equal('transferred');
      const rows = await RepaymentSchedule.findAll({ where: { loanId: loan.id } });
      expect(rows.map((r) => String(r.userId))).to.deep.equal([buyer.userId]);
      expect((await CreditNote.findByPk(noteId))!.status).to.equal('sold_out');
      expect(await bal(seller.userId, 'invested')).to.equal(0n);
    });

    it('when an order breaks a rule, then it is refused with that rule’s code', async () => {
      const { inv: seller, noteId } = await noteOf(500_000);
      const buyer = await makeInvestor(rt, { wallet: 1_000_000n });
      const poor = await makeInvestor(rt, { wallet: 10_000n });
      const cases: [string, number, string][] = [
        [seller.token, 100_000, 'OWN_NOTE'],
        [buyer.token, 150_000, 'AMOUNT_NOT_INCREMENT'],
        [buyer.token, 450_000, 'REMAINDER_BELOW_MINIMUM'],
        [buyer.token, 600_000, 'AMOUNT_OVER_TRADABLE'],
        [poor.token, 100_000, 'INSUFFICIENT_BALANCE'],
      ];
      for (const [token, principal, code] of cases) {
        const r = await api.post('/api/v1/credit-orders', { noteId, principal }, { token });
        expect(r.status, code).to.equal(422);
        expect(r.body.error.code).to.equal(code);
      }
      await api.call('DELETE', `/api/v1/credit-notes/${noteId}`, { token: seller.token });
      const ended = await api.post(
        '/api/v1/credit-orders/calc',
        { noteId, principal: 100_000 },
        { token: buyer.token },
      );
      expect(ended.body.error.code).to.equal('NOTE_ENDED');
    });

    it('when 100 buyers race for one note, then tradedAmount never exceeds it and the asset adds up', async () => {
      const { asset, noteId } = await noteOf(1_000_000, '0');
      const buyers = [];
      for (let i = 0; i < 100; i++) buyers.push(await makeInvestor(rt, { wallet: 200_000n }));
      const placed = await Promise.all(
        buyers.map((b) =>
          api.post('/api/v1/credit-orders', { noteId, principal: 100_000 }, { token: b.token }),
        ),
      );
      const ids = placed.filter((p) => p.status === 202).map((p) => p.body.id as string);
      for (const p of placed.filter((x) => x.status !== 202))
        expect(p.body.error.code, JSON.stringify(p.body)).to.be.oneOf([
          'AMOUNT_OVER_TRADABLE',
          'NOTE_ENDED',
        ]);
      for (const id of ids) await settled(id);
      const orders = await CreditOrder.findAll({ where: { id: ids } });
      const sold = orders
        .filter((o) => o.status === 'success')
        .reduce((s, o) => s + o.principal, 0n);
      const note = (await CreditNote.findByPk(noteId))!;
      expect(note.tradedAmount).to.equal(sold);
      expect(sold <= 1_000_000n).to.equal(true);
      expect(sold).to.equal(1_000_000n);
      // The losers failed before paying (the note sold out, or closed once it did): no payment.
      for (const o of orders.filter((x) => x.status === 'failed')) {
        expect(o.failCode).to.be.oneOf(['OVERBUY', 'NOTE_ENDED']);
        expect(
          await PaymentInstruction.count({ where: { purpose: 'transfer', refId: o.id } }),
        ).to.equal(0);
      }
      expect(note.reservedAmount).to.equal(0n);
      const held = await Asset.findAll({
        where: { [Op.or]: [{ id: asset.id }, { parentAssetId: asset.id }] },
      });
      expect(held.reduce((s, a) => s + a.principal, 0n)).to.equal(1_000_000n);
      for (const b of buyers) expect(await bal(b.userId, 'locked')).to.equal(0n);
    });

    it('when the buyer payment has no answer, then the order is abnormal until the status query answers, then it completes', async () => {
      const { noteId } = await noteOf(500_000, '0');
      const buyer = await makeInvestor(rt, { wallet: 600_000n });
      const gateway = rt.ports.gateway;
      // The gateway takes the payment but stays silent, then says pending, then success.
      const submit = sinon
        .stub(gateway, 'submit')
        .resolves({ accepted: true, gatewayTxnId: 'SILENT' });
      const query = sinon.stub(gateway, 'query').resolves({ status: 'pending' });
      try {
        const res = await api.post(
          '/api/v1/credit-orders',
          { noteId, principal: 200_000 },
          { token: buyer.token },
        );
        await eventually(
          async () =>
            (await PaymentInstruction.findOne({
              where: { purpose: 'transfer', refId: res.body.id, status: 'submitted' },
            })) !== null,
        );
        const i = (await PaymentInstruction.findOne({
          where: { purpose: 'transfer', refId: res.body.id },
        }))!;
        expect(await queryInstruction({ gateway, cipher: rt.cipher }, String(i.id))).to.equal(
          'still pending',
        );
        const abnormal = (await CreditOrder.findByPk(res.body.id))!;
        expect([abnormal.status, abnormal.buyerPaymentStatus]).to.deep.equal(['abnormal', 3]);
        expect(await bal(buyer.userId, 'locked')).to.equal(abnormal.payAmount);
        query.resolves({ status: 'success', gatewayTxnId: 'SILENT' });
        expect(await queryInstruction({ gateway, cipher: rt.cipher }, String(i.id))).to.equal(
          'credit order paid',
        );
        const done = await settled(res.body.id);
        expect([done.status, done.buyerPaymentStatus, done.sellerRefundStatus]).to.deep.equal([
          'success',
          1,
          1,
        ]);
      } finally {
        submit.restore();
        query.restore();
      }
    });

    it('when the buyer payment is declined, then the order fails and the money returns to the wallet', async () => {
      const { noteId } = await noteOf(500_000, '0');
      const buyer = await makeInvestor(rt, { wallet: 600_000n });
      const gateway = rt.ports.gateway;
      const submit = sinon
        .stub(gateway, 'submit')
        .resolves({ accepted: false, failReason: 'custody account frozen' });
      try {
        const res = await api.post(
          '/api/v1/credit-orders',
          { noteId, principal: 200_000 },
          { token: buyer.token },
        );
        const o = await settled(res.body.id);
        expect([o.status, o.buyerPaymentStatus, o.failCode]).to.deep.equal([
          'failed',
          2,
          'PAYMENT_FAILED',
        ]);
        expect(await bal(buyer.userId, 'available')).to.equal(600_000n);
        expect(await bal(buyer.userId, 'locked')).to.equal(0n);
        expect((await CreditNote.findByPk(noteId))!.tradedAmount).to.equal(0n);
      } finally {
        submit.restore();
      }
    });

    it('when the first step dies, then nothing is reserved, and the sweeper finds orders whose job is lost', async () => {
      const { noteId } = await noteOf(500_000, '0');
      const buyer = await makeInvestor(rt, { wallet: 600_000n });
      const q = rt.queues.get(QueueName.Transfers)!;
      await q.pause();
      try {
        const res = await api.post(
          '/api/v1/credit-orders',
          { noteId, principal: 200_000 },
          { token: buyer.token },
        );
        const crash = sinon.stub(CreditOrder.prototype, 'update').rejects(new Error('worker died'));
        await confirmCreditOrder(confirmDeps(), res.body.id).catch(() => undefined);
        crash.restore();
        expect((await CreditOrder.findByPk(res.body.id))!.status).to.equal('initial');
        expect([
          await bal(buyer.userId, 'available'),
          await bal(buyer.userId, 'locked'),
        ]).to.deep.equal([600_000n, 0n]);
        expect(
          await PaymentInstruction.count({ where: { purpose: 'transfer', refId: res.body.id } }),
        ).to.equal(0);
        expect(await sweepCreditOrders(rt.queues, 0)).to.be.greaterThan(0);
        const jobs = await q.getJobs(['waiting', 'delayed', 'prioritized']);
        expect(
          jobs.some(
            (j) =>
              j.name === 'credit-order.confirm' &&
              j.data.orderId === res.body.id &&
              String(j.id).startsWith('credit-confirm-'),
          ),
        ).to.equal(true);
      } finally {
        await q.resume();
      }
    });

    it('when the database step dies and runs again, then it is applied once', async () => {
      const { noteId } = await noteOf(500_000, '0');
      const buyer = await makeInvestor(rt, { wallet: 600_000n });
      await rt.queues.get(QueueName.Transfers)!.pause();
      try {
        const res = await api.post(
          '/api/v1/credit-orders',
          { noteId, principal: 200_000 },
          { token: buyer.token },
        );
        expect(await confirmCreditOrder(confirmDeps(), res.body.id)).to.equal(
          'buyer payment started',
        );
        await eventually(
          async () => (await CreditOrder.findByPk(res.body.id))!.buyerPaymentStatus === 1,
        );
        const crash = sinon.stub(RepaymentSchedule, 'bulkCreate').rejects(new Error('worker died'));
        await confirmCreditOrder(confirmDeps(), res.body.id).catch(() => undefined);
        crash.restore();
        expect((await CreditOrder.findByPk(res.body.id))!.status).to.equal('processing');
        expect(await bal(buyer.userId, 'invested')).to.equal(0n);
        expect(await confirmCreditOrder(confirmDeps(), res.body.id)).to.equal('success');
        expect(await confirmCreditOrder(confirmDeps(), res.body.id)).to.equal('already success');
        expect(await bal(buyer.userId, 'invested')).to.equal(200_000n);
        expect((await CreditNote.findByPk(noteId))!.tradedAmount).to.equal(200_000n);
      } finally {
        await rt.queues.get(QueueName.Transfers)!.resume();
      }
    });
  });
});
