import { expect } from 'chai';
import { jobIds } from '../../src/queues/job-ids';
import { advanceClock } from '../../src/lib/clock';
import sinon from 'sinon';
import { Loan } from '../../src/modules/loans/loan.model';
import { lockOrder } from '../../src/modules/orders/orders.service';
import { PaymentInstruction } from '../../src/modules/payments/payment.model';
import { submitInstruction, sweepInstructions } from '../../src/modules/payments/payments.service';
import { QueueName } from '../../src/queues/queues';
import { eventually } from '../helpers/api';
import { makeInvestor } from '../helpers/market';
import { usePrimaryMarket, rt, api, newLoan, order } from '../helpers/primary-market';

describe('primary market: crash safety and the sweeper', function () {
  this.timeout(30_000);
  usePrimaryMarket('primary-crash-safety');

  describe('crash safety and the sweeper', () => {
    it('when the lock job dies inside its transaction and runs again, then the share is reserved once', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { cardLast4: '0119' });
      await rt.queues.get(QueueName.Orders)!.pause();
      try {
        const res = await api.post(
          '/api/v1/orders',
          { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'card' },
          { token: inv.token },
        );
        const deps = { cipher: rt.cipher, partner: rt.ports.partner, config: rt.config };
        // Dies after the batch has written the order's move, before the instructions.
        const crash = sinon
          .stub(PaymentInstruction, 'bulkCreate')
          .rejects(new Error('worker died'));
        expect(await lockOrder(deps, res.body.id).catch((e: Error) => e.message)).to.equal(
          'worker died',
        );
        crash.restore();
        let loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
        expect(loan.lockedAmount).to.equal(0n);
        expect((await order(res.body.id)).status).to.equal('pending');
        expect(await lockOrder(deps, res.body.id)).to.equal('paying');
        expect(await lockOrder(deps, res.body.id)).to.equal('paying');
        loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
        expect(loan.lockedAmount).to.equal(1_000_000n);
        expect(
          await PaymentInstruction.count({ where: { purpose: 'order', refId: res.body.id } }),
        ).to.equal(1);
      } finally {
        await rt.queues.get(QueueName.Orders)!.resume();
      }
    });

    it('when instructions are due for a query or were never submitted, then the sweeper enqueues one job each', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { cardLast4: '0119' });
      // The gateway cannot be reached when the lock step hands the instruction over.
      const down = sinon.stub(rt.ports.gateway, 'submit').rejects(new Error('gateway down'));
      await rt.queues.get(QueueName.Payments)!.pause();
      try {
        const res = await api.post(
          '/api/v1/orders',
          { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'card' },
          { token: inv.token },
        );
        await eventually(
          async () =>
            (await PaymentInstruction.count({
              where: { purpose: 'order', refId: res.body.id },
            })) === 1,
        );
        await eventually(async () => down.called);
        down.restore();
        const instr = (await PaymentInstruction.findOne({
          where: { purpose: 'order', refId: res.body.id },
        }))!;
        expect(instr.status).to.equal('created');
        // Never handed over: with no grace left, the sweeper resubmits.
        expect(await sweepInstructions(rt.queues, 0)).to.be.greaterThan(0);
        await sweepInstructions(rt.queues, 0);
        const q = rt.queues.get(QueueName.Payments)!;
        expect(
          await q.getJob(jobIds.instructionResubmit(instr.id, instr.submitAttempts)),
        ).to.not.equal(undefined);
        // Submitted, silent (…0119): a minute later its status query is due.
        expect(
          await submitInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, instr.id),
        ).to.equal('submitted');
        await sweepInstructions(rt.queues, 120);
        expect(await q.getJob(jobIds.instructionQuery(instr.id, 0))).to.equal(undefined);
        advanceClock(61_000);
        await sweepInstructions(rt.queues, 120);
        expect(await q.getJob(jobIds.instructionQuery(instr.id, 0))).to.not.equal(undefined);
      } finally {
        down.restore();
        await rt.queues.get(QueueName.Payments)!.resume();
      }
    });
  });
});
