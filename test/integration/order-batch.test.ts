import { expect } from 'chai';
import sinon from 'sinon';
import { Loan } from '../../src/modules/loans/loan.model';
import { checkLedger } from '../../src/modules/ledger/ledger.service';
import { Asset } from '../../src/modules/assets/asset.model';
import { Order } from '../../src/modules/orders/order.model';
import { CLAIM_BATCH } from '../../src/modules/orders/order-claim';
import { lockOrder, PARTNER_CHECK_GIVE_UP_MS } from '../../src/modules/orders/orders.service';
import { advanceClock, setClock } from '../../src/lib/clock';
import { AppError } from '../../src/lib/errors';
import { PaymentInstruction } from '../../src/modules/payments/payment.model';
import {
  paymentDeps,
  submitInstructions,
  sweepInstructions,
} from '../../src/modules/payments/payments.service';
import { OutboxMessage } from '../../src/modules/outbox/outbox.model';
import { QueueName } from '../../src/queues/queues';
import { eventually, type Api } from '../helpers/api';
import { testRuntime } from '../helpers/context';
import { loanBody, makeInvestor, signedPost, startMarket } from '../helpers/market';

describe('the lock step decides a loan’s pending orders in one batch', function () {
  this.timeout(60_000);
  let rt: ReturnType<typeof testRuntime>;
  let api: Api;
  let url: string;
  let stop: () => Promise<void>;

  before(async () => {
    ({ rt, url, api, stop } = await startMarket('batch', {
      queues: [QueueName.Loans, QueueName.Orders, QueueName.Payments],
      overrides: { investorLimitAmount: 3_000_000n },
    }));
  });
  after(async () => stop());

  async function newLoan(amountApply: number) {
    const body = loanBody({ amountApply });
    const res = await signedPost(url, '/partner/v1/loans', body, rt.config.partner.secret);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return body.creditorNo;
  }
  const place = async (
    token: string,
    creditorNo: string,
    amount: number,
    payWith: 'card' | 'wallet',
  ) => {
    const res = await api.post('/api/v1/orders', { creditorNo, amount, payWith }, { token });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    return res.body.id as string;
  };

  it('when orders of every kind wait on one loan, then one lock job decides them all: rules, the limit, the wallet and the room, never overselling', async () => {
    const creditorNo = await newLoan(10_000_000);
    const orders = rt.queues.get(QueueName.Orders)!;
    await orders.pause();
    const ids: Record<string, string> = {};
    try {
      for (let i = 1; i <= 6; i++)
        ids[`card${i}`] = await place(
          (await makeInvestor(rt)).token,
          creditorNo,
          1_000_000,
          'card',
        );
      for (let i = 1; i <= 2; i++)
        ids[`wallet${i}`] = await place(
          (await makeInvestor(rt, { wallet: 5_000_000n })).token,
          creditorNo,
          1_000_000,
          'wallet',
        );
      ids.noKyc = await place(
        (await makeInvestor(rt, { kyc: false, card: false })).token,
        creditorNo,
        1_000_000,
        'card',
      );
      ids.poor = await place(
        (await makeInvestor(rt, { wallet: 100_000n })).token,
        creditorNo,
        1_000_000,
        'wallet',
      );
      const a = await makeInvestor(rt);
      ids.first = await place(a.token, creditorNo, 2_000_000, 'card');
      ids.overLimit = await place(a.token, creditorNo, 2_000_000, 'card');
      ids.noRoom = await place((await makeInvestor(rt)).token, creditorNo, 1_000_000, 'card');

      const deps = { cipher: rt.cipher, partner: rt.ports.partner, config: rt.config };
      expect(await lockOrder(deps, ids.card1)).to.equal('paying');
      const byName = async () =>
        Object.fromEntries(
          await Promise.all(
            Object.entries(ids).map(async ([k, id]) => {
              const o = (await Order.findByPk(id))!;
              return [k, o.failCode ?? o.status];
            }),
          ),
        );
      // One job, thirteen decisions.
      expect(await byName()).to.deep.equal({
        card1: 'paying',
        card2: 'paying',
        card3: 'paying',
        card4: 'paying',
        card5: 'paying',
        card6: 'paying',
        wallet1: 'paid',
        wallet2: 'paid',
        noKyc: 'KYC_NOT_VERIFIED',
        poor: 'INSUFFICIENT_BALANCE',
        first: 'paying',
        overLimit: 'OVER_LIMIT',
        noRoom: 'NOT_ENOUGH_ROOM',
      });
      const loan = (await Loan.findOne({ where: { creditorNo } }))!;
      expect(loan.lockedAmount).to.equal(8_000_000n);
      expect(loan.boughtAmount).to.equal(2_000_000n);
      const paying = ['card1', 'card2', 'card3', 'card4', 'card5', 'card6', 'first'].map(
        (k) => ids[k],
      );
      expect(
        await PaymentInstruction.count({ where: { purpose: 'order', refId: Object.values(ids) } }),
      ).to.equal(7);
      expect(await Asset.count({ where: { orderId: Object.values(ids) } })).to.equal(2);
      const expiries = await OutboxMessage.findAll({ where: { jobName: 'order.expire' } });
      expect(
        expiries.filter((m) => paying.includes((m.payload as { orderId: string }).orderId)),
      ).to.have.length(7);
      // The jobs of the other orders find them decided and change nothing.
      expect(await lockOrder(deps, ids.noRoom)).to.equal('rejected');
    } finally {
      await orders.resume();
    }
    // The card payments complete; the loan is bought out.
    await eventually(
      async () => (await Loan.findOne({ where: { creditorNo } }))!.boughtAmount === 10_000_000n,
    );
    const check = await checkLedger();
    expect(check.ok, String(check.trialBalance)).to.equal(true);
  });

  it('when the lock batch hands its instructions to the gateway itself, then each is submitted once after the commit, several at a time, and one the gateway cannot take stays created for the sweeper', async () => {
    const creditorNo = await newLoan(10_000_000);
    const orders = rt.queues.get(QueueName.Orders)!;
    await orders.pause();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(await place((await makeInvestor(rt)).token, creditorNo, 1_000_000, 'card'));
      const gateway = rt.ports.gateway;
      const real = gateway.submit.bind(gateway);
      let calls = 0;
      let inFlight = 0;
      let most = 0;
      const down = sinon.stub(gateway, 'submit').callsFake(async (x) => {
        const n = ++calls;
        inFlight += 1;
        most = Math.max(most, inFlight);
        try {
          await new Promise((r) => setTimeout(r, 20));
          if (n === 2) throw new Error('gateway down');
          return await real(x);
        } finally {
          inFlight -= 1;
        }
      });
      const handed: string[][] = [];
      const outcomes: string[] = [];
      try {
        const status = await lockOrder(
          {
            cipher: rt.cipher,
            partner: rt.ports.partner,
            config: rt.config,
            submit: async (instructionIds) => {
              // After the commit: the instructions are already there for anyone to read.
              expect(await PaymentInstruction.count({ where: { id: instructionIds } })).to.equal(
                instructionIds.length,
              );
              handed.push(instructionIds);
              outcomes.push(
                ...(await submitInstructions(paymentDeps(rt), instructionIds, { concurrency: 3 })),
              );
            },
          },
          ids[0],
        );
        expect(status).to.equal('paying');
      } finally {
        down.restore();
      }
      expect(handed).to.have.length(1);
      expect(handed[0]).to.have.length(5);
      expect(calls).to.equal(5);
      expect(most).to.equal(3);
      const instructions = await PaymentInstruction.findAll({ where: { id: handed[0] } });
      expect(instructions.filter((i) => i.status === 'created')).to.have.length(1);
      expect(outcomes.filter((o) => o.startsWith('left for the sweeper'))).to.have.length(1);
      expect(instructions.every((i) => i.submitAttempts === 1)).to.equal(true);
      // No instruction.submit job was written for them: the sweeper is the one way back.
      const submits = await OutboxMessage.findAll({ where: { jobName: 'instruction.submit' } });
      expect(
        submits.filter((m) =>
          handed[0].includes((m.payload as { instructionId: string }).instructionId),
        ),
      ).to.have.length(0);
      // …and it brings the one left behind to the gateway.
      await sweepInstructions(rt.queues, 0);
      await eventually(
        async () =>
          (await PaymentInstruction.count({ where: { id: handed[0], status: 'created' } })) === 0,
      );
    } finally {
      await orders.resume();
    }
  });

  it('when more orders wait than a batch takes, then the jobs of the later ones decide them, and two batches racing never oversell', async () => {
    const creditorNo = await newLoan(30_000_000);
    const orders = rt.queues.get(QueueName.Orders)!;
    await orders.pause();
    const ids: string[] = [];
    try {
      const investors = await Promise.all(
        Array.from({ length: 8 }, () => makeInvestor(rt, { wallet: 3_000_000n })),
      );
      // More than one batch: 8 investors × (CLAIM_BATCH / 4 + 1) orders of 200,000.
      for (let round = 0; round <= CLAIM_BATCH / 4; round++)
        for (const inv of investors)
          ids.push(await place(inv.token, creditorNo, 200_000, round % 2 ? 'wallet' : 'card'));
      const deps = { cipher: rt.cipher, partner: rt.ports.partner, config: rt.config };
      await Promise.all([lockOrder(deps, ids[0]), lockOrder(deps, ids[ids.length - 1])]);
      await Promise.all(ids.map((id) => lockOrder(deps, id)));
    } finally {
      await orders.resume();
    }
    const all = await Order.findAll({ where: { id: ids } });
    expect(all.filter((o) => o.status === 'pending')).to.deep.equal([]);
    const taken = all
      .filter((o) => ['paying', 'paid'].includes(o.status))
      .reduce((s, o) => s + o.amount, 0n);
    const loan = (await Loan.findOne({ where: { creditorNo } }))!;
    expect(loan.lockedAmount + loan.boughtAmount).to.equal(taken);
    expect(taken <= loan.amount).to.equal(true);
    // The investor limit (3,000,000 each: 15 orders) caps the 8 investors at 24,000,000.
    expect(taken).to.equal(24_000_000n);
    expect(all.filter((o) => o.failCode === 'OVER_LIMIT')).to.have.length(ids.length - 120);
  });
  it('when the partner cannot tell whether an investor has an active loan, then the order waits (never "no loan") and is rejected PARTNER_CHECK_UNAVAILABLE once it has waited long enough', async () => {
    const creditorNo = await newLoan(10_000_000);
    const orders = rt.queues.get(QueueName.Orders)!;
    await orders.pause();
    try {
      const oddPartner = {
        ...rt.ports.partner,
        hasActiveLoan: sinon.stub().rejects(
          new AppError('SERVICE_UNAVAILABLE', 'partner active-loan reply is unusable', [], {
            retryable: true,
          }),
        ),
      };
      const deps = { cipher: rt.cipher, partner: oddPartner, config: rt.config };
      const id = await place((await makeInvestor(rt)).token, creditorNo, 1_000_000, 'card');
      const first = await lockOrder(deps, id).then(
        () => undefined,
        (err: AppError) => err,
      );
      expect(first?.code).to.equal('SERVICE_UNAVAILABLE');
      expect(first?.retryable).to.equal(true);
      expect((await Order.findByPk(id))!.status).to.equal('pending');
      expect((await Loan.findOne({ where: { creditorNo } }))!.lockedAmount).to.equal(0n);
      expect(oddPartner.hasActiveLoan.called).to.equal(true);

      advanceClock(PARTNER_CHECK_GIVE_UP_MS);
      expect(await lockOrder(deps, id)).to.equal('rejected');
      expect(await Order.findByPk(id)).to.include({
        status: 'rejected',
        failCode: 'PARTNER_CHECK_UNAVAILABLE',
      });
      expect((await Loan.findOne({ where: { creditorNo } }))!.lockedAmount).to.equal(0n);

      // The partner answers again: the next order goes through.
      const again = await place((await makeInvestor(rt)).token, creditorNo, 1_000_000, 'card');
      const good = { cipher: rt.cipher, partner: rt.ports.partner, config: rt.config };
      expect(await lockOrder(good, again)).to.be.oneOf(['locked', 'paying', 'paid']);
    } finally {
      setClock();
      await orders.resume();
    }
  });
});
