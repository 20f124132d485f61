import { expect } from 'chai';
import sinon from 'sinon';
import { Op } from 'sequelize';
import { registerSweepers } from '../../jobs/scheduler';
import { advanceClock, setClock } from '../../src/lib/clock';
import { KycVerification } from '../../src/modules/kyc/kyc.model';
import { sweepKyc } from '../../src/modules/kyc/kyc.service';
import { checkLedger } from '../../src/modules/ledger/ledger.service';
import { Loan } from '../../src/modules/loans/loan.model';
import { Asset } from '../../src/modules/assets/asset.model';
import { Order } from '../../src/modules/orders/order.model';
import { countPendingOutbox } from '../../src/modules/outbox/outbox.service';
import { reconcile } from '../../src/modules/reconciliation/reconciliation.service';
import { Repayment } from '../../src/modules/repayments/repayment.model';
import { CreditOrder } from '../../src/modules/transfers/credit-order.model';
import { User } from '../../src/modules/users/user.model';
import { QueueName, SWEEPERS } from '../../src/queues/queues';
import { eventually, randomNik } from '../helpers/api';
import { silentLogger, testDb } from '../helpers/context';
import {
  disbursedLoan,
  loanBody,
  makeInvestor,
  partnerOf,
  reportRepayment,
  startMarket,
  type Market,
} from '../helpers/market';

const DAY = 86_400_000;

describe('no job is lost for good: every waiting state is found again from PostgreSQL', function () {
  this.timeout(120_000);
  let m: Market;

  before(async () => {
    m = await startMarket('recovery', {
      queues: Object.values(QueueName),
      overrides: { recoveryGraceSeconds: 1 },
    });
  });
  after(async () => {
    setClock();
    await m.stop();
  });
  afterEach(() => sinon.restore());

  /** The scheduler's sweepers, fast (what `jobs/scheduler.ts` registers, every few hundred ms). */
  const scheduleSweepers = () =>
    registerSweepers(
      m.rt.queues,
      silentLogger,
      SWEEPERS.map((s) => ({ ...s, everyMs: 300 })),
    );

  it('when Redis is flushed in the middle of a busy market, then every order, loan (its borrower fetched), repayment, credit order and KYC reaches its final state without a person', async () => {
    const api = m.api;
    const partner = partnerOf(m);
    // A disbursed loan whose asset is on sale, and a disbursed loan about to be repaid.
    const { loan: selling, investors: sellers } = await disbursedLoan(
      m,
      { amountApply: 2_000_000, serviceFee: 0, term: 60 },
      [{ amount: 2_000_000 }],
    );
    const { loan: repaying } = await disbursedLoan(m, { amountApply: 1_000_000, serviceFee: 0 }, [
      { amount: 1_000_000 },
    ]);
    setClock({ offsetMs: 5 * DAY });
    const asset = (await Asset.findOne({ where: { loanId: selling.id } }))!;
    const note = await api.post(
      '/api/v1/credit-notes',
      { assetId: asset.id, amount: 2_000_000 },
      { token: sellers[0].token },
    );
    expect(note.status).to.equal(201);
    const creditBuyers = [
      await makeInvestor(m.rt, { wallet: 2_000_000n }),
      await makeInvestor(m.rt, { wallet: 2_000_000n }),
    ];
    const creditIds = await Promise.all(
      creditBuyers.map(
        async (b) =>
          (
            await api.post(
              '/api/v1/credit-orders',
              { noteId: note.body.id, principal: 1_000_000 },
              { token: b.token },
            )
          ).body.id as string,
      ),
    );
    // Back to today (a clock five days on would close the new loans to buyers).
    setClock();

    // Busy: loans arriving, card and wallet purchases, a repayment, KYC checks.
    const open = [loanBody({ amountApply: 3_000_000 }), loanBody({ amountApply: 2_000_000 })];
    for (const b of open) expect((await partner.post('/partner/v1/loans', b)).status).to.equal(201);
    const buyers = [];
    for (let i = 0; i < 8; i++)
      buyers.push(await makeInvestor(m.rt, i % 2 ? { wallet: 1_000_000n } : { cardLast4: '5555' }));
    const orderIds = await Promise.all(
      buyers.map(
        async (b, i) =>
          (
            await api.post(
              '/api/v1/orders',
              {
                creditorNo: open[i % 2].creditorNo,
                amount: 500_000,
                payWith: i % 2 ? 'wallet' : 'card',
              },
              { token: b.token },
            )
          ).body.id as string,
      ),
    );
    const repaymentNo = await reportRepayment(m, repaying, 1);
    const kycUsers = [
      await makeInvestor(m.rt, { kyc: false }),
      await makeInvestor(m.rt, { kyc: false }),
    ];
    for (const u of kycUsers)
      expect(
        (
          await api.post(
            '/api/v1/me/kyc',
            { realName: 'Rina Herlina', idCardNo: randomNik() },
            { token: u.token },
          )
        ).status,
      ).to.equal(202);

    // Redis loses everything: queued, delayed and running jobs, the sandbox gateway's memory.
    await m.rt.redis.flushdb();

    // The scheduler puts its sweepers back (it re-asserts them every minute), and two minutes
    // go by: the payments without an answer are asked about and the purchases go through.
    // Then time goes by past the loans' deadlines, and they settle.
    await scheduleSweepers();
    advanceClock(2 * 60_000);
    // The KYC checks are asked again in those two minutes too (before the jump below, which
    // would otherwise time them out to manual review).
    await eventually(
      async () =>
        (await Order.findAll({ where: { id: orderIds } })).every((o) => o.status === 'paid') &&
        (await User.findAll({ where: { id: kycUsers.map((u) => u.userId) } })).every(
          (u) => u.kycStatus === 'verified',
        ),
      30_000,
    );
    advanceClock(7 * 3_600_000);

    const final = async () => {
      const orders = await Order.findAll({ where: { id: orderIds } });
      const loans = await Loan.findAll({
        where: { creditorNo: open.map((b) => b.creditorNo) },
      });
      const credit = await CreditOrder.findAll({ where: { id: creditIds } });
      const kyc = await User.findAll({ where: { id: kycUsers.map((u) => u.userId) } });
      const repayment = (await Repayment.findOne({ where: { repaymentNo } }))!;
      return (
        orders.every((o) =>
          ['paid', 'failed', 'expired', 'rejected', 'refunded'].includes(o.status),
        ) &&
        loans.every((l) => ['repaying', 'failed'].includes(l.status) && l.borrowerFetchedAt) &&
        credit.every((o) => ['success', 'failed'].includes(o.status)) &&
        kyc.every((u) => ['verified', 'manual_review'].includes(u.kycStatus)) &&
        repayment.status === 'cleared'
      );
    };
    await eventually(final, 60_000);
    const orders = await Order.findAll({ where: { id: orderIds } });
    expect(orders.map((o) => o.status)).to.deep.equal(orderIds.map(() => 'paid'));
    expect(
      (await CreditOrder.findAll({ where: { id: creditIds } })).map((o) => o.status),
    ).to.deep.equal(['success', 'success']);
    expect(
      (await User.findAll({ where: { id: kycUsers.map((u) => u.userId) } })).map(
        (u) => u.kycStatus,
      ),
    ).to.deep.equal(['verified', 'verified']);
    await eventually(async () => (await countPendingOutbox()) === 0);
    expect((await checkLedger()).ok).to.equal(true);
    expect(
      await reconcile(testDb(), {
        loans: [selling.creditorNo, repaying.creditorNo, ...open.map((b) => b.creditorNo)],
      }),
    ).to.deep.equal([]);
  });

  it('when the KYC provider never answers, then after KYC_PROVIDER_TIMEOUT_SECONDS the submission goes to manual review (seed #4)', async () => {
    const kyc = sinon.stub(m.rt.ports.kyc, 'verify').rejects(new Error('provider down'));
    const u = await makeInvestor(m.rt, { kyc: false });
    expect(
      (
        await m.api.post(
          '/api/v1/me/kyc',
          { realName: 'Rina Herlina', idCardNo: randomNik() },
          { token: u.token },
        )
      ).status,
    ).to.equal(202);
    await eventually(async () => kyc.callCount > 0);
    const v = (await KycVerification.findOne({ where: { userId: u.userId } }))!;
    expect(v.status).to.equal('pending');
    // Within the timeout the check is only started again; past it, an admin reviews it.
    expect(await sweepKyc(m.rt.queues, { graceSeconds: 0, timeoutSeconds: 3_600 })).to.deep.include(
      { toManualReview: 0 },
    );
    const swept = await sweepKyc(m.rt.queues, { graceSeconds: 0, timeoutSeconds: 0 });
    expect(swept.toManualReview).to.be.greaterThan(0);
    expect((await v.reload()).status).to.equal('manual_review');
    expect(v.reason).to.contain('did not answer');
    expect((await User.findByPk(u.userId))!.kycStatus).to.equal('manual_review');
    expect(
      await KycVerification.count({
        where: { userId: u.userId, status: { [Op.ne]: 'manual_review' } },
      }),
    ).to.equal(0);
  });
});
