import { expect } from 'chai';
import { setClock } from '../../src/lib/clock';
import { Loan } from '../../src/modules/loans/loan.model';
import { expireOrder } from '../../src/modules/orders/orders.service';
import { PaymentInstruction } from '../../src/modules/payments/payment.model';
import { queryInstruction } from '../../src/modules/payments/payments.service';
import { eventually } from '../helpers/api';
import { makeInvestor } from '../helpers/market';
import {
  usePrimaryMarket,
  silentOrder,
  rt,
  api,
  newLoan,
  order,
  settledOrder,
  balance,
} from '../helpers/primary-market';

describe('primary market: lock expiry and late payments', function () {
  this.timeout(30_000);
  usePrimaryMarket('primary-lock-expiry');

  describe('lock expiry and late payments', () => {
    // The clock goes past the lock's expiry for the expiry job, then back.
    const expireNow = async (orderId: string) => {
      const expiresAt = (await order(orderId)).lockExpiresAt!.getTime();
      setClock({ offsetMs: expiresAt + 1_000 - Date.now() });
      try {
        return await expireOrder(orderId);
      } finally {
        setClock();
      }
    };

    it('when the lock expires, then the share is released once and the order is expired', async () => {
      const { body } = await newLoan();
      const { orderId } = await silentOrder(body.creditorNo);
      expect(
        (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!.lockedAmount,
      ).to.equal(1_000_000n);
      expect(await expireNow(orderId)).to.equal('expired');
      expect(await expireOrder(orderId)).to.equal('already expired');
      const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
      expect(loan.lockedAmount).to.equal(0n);
      expect((await order(orderId)).failCode).to.equal('LOCK_EXPIRED');
    });

    it('when an expired lock is not due yet, then the job refuses (and is retried later)', async () => {
      const { body } = await newLoan();
      const { orderId } = await silentOrder(body.creditorNo);
      let err: Error | undefined;
      await expireOrder(orderId).catch((e) => (err = e));
      expect(err?.message).to.contain('not expired yet');
      expect((await order(orderId)).status).to.equal('paying');
    });

    it('when the payment succeeds after expiry and the loan has room, then the order is re-locked and paid', async () => {
      const { body } = await newLoan();
      const { orderId, instr, inv } = await silentOrder(body.creditorNo);
      await expireNow(orderId);
      await new Promise((r) => setTimeout(r, 350));
      expect(
        await queryInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, String(instr.id)),
      ).to.contain('re-locked');
      expect((await order(orderId)).status).to.equal('paid');
      expect(
        (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!.boughtAmount,
      ).to.equal(1_000_000n);
      expect(await balance(inv.userId, 'invested')).to.equal(1_000_000n);
    });

    it('when the payment succeeds after expiry and the loan is sold out, then the money is refunded to the card', async () => {
      const { body } = await newLoan({ amountApply: 1_000_000, serviceFee: 0 });
      const { orderId, instr, inv } = await silentOrder(body.creditorNo);
      await expireNow(orderId);
      const buyer = await makeInvestor(rt, { wallet: 1_000_000n });
      const taken = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'wallet' },
        { token: buyer.token },
      );
      expect((await settledOrder(taken.body.id)).status).to.equal('paid');
      await new Promise((r) => setTimeout(r, 350));
      expect(
        await queryInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, String(instr.id)),
      ).to.contain('refunding');
      expect((await order(orderId)).status).to.equal('refunding');
      expect(await balance(inv.userId, 'locked')).to.equal(1_000_000n);
      // The refund payout goes back to the same silent card: resolve it by query too.
      const refund = (await PaymentInstruction.findOne({
        where: { purpose: 'refund', refId: orderId },
      }))!;
      await eventually(async () => (await refund.reload()).status === 'submitted');
      await new Promise((r) => setTimeout(r, 350));
      await queryInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, String(refund.id));
      expect((await order(orderId)).status).to.equal('refunded');
      expect(await balance(inv.userId, 'locked')).to.equal(0n);
      const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
      expect([loan.lockedAmount, loan.boughtAmount]).to.deep.equal([0n, 1_000_000n]);
    });
  });
});
