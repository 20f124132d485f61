import { expect } from 'chai';
import { Loan } from '../../src/modules/loans/loan.model';
import { Asset } from '../../src/modules/assets/asset.model';
import { Order } from '../../src/modules/orders/order.model';
import { GatewayCallback, PaymentInstruction } from '../../src/modules/payments/payment.model';
import { queryInstruction } from '../../src/modules/payments/payments.service';
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

describe('primary market: purchase', function () {
  this.timeout(30_000);
  usePrimaryMarket('primary-purchase');

  describe('purchase', () => {
    it('when an investor buys from the wallet, then the order is paid, the share bought, the asset created and the ledger moved', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { wallet: 2_000_000n });
      const res = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_500_000, payWith: 'wallet' },
        { token: inv.token },
      );
      expect(res.status).to.equal(202);
      expect(res.body.status).to.equal('pending');
      const o = await settledOrder(res.body.id);
      expect(o.status).to.equal('paid');
      const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
      expect([loan.lockedAmount, loan.boughtAmount]).to.deep.equal([0n, 1_500_000n]);
      expect((await Asset.findOne({ where: { orderId: o.id } }))!.principal).to.equal(1_500_000n);
      expect(await balance(inv.userId, 'available')).to.equal(500_000n);
      expect(await balance(inv.userId, 'invested')).to.equal(1_500_000n);
      const view = await api.get(`/api/v1/orders/${o.id}`, { token: inv.token });
      expect(view.body).to.include({
        status: 'paid',
        amount: 1_500_000,
        payWith: 'wallet',
        creditorNo: body.creditorNo,
      });
      const acc = await api.get('/api/v1/me/account', { token: inv.token });
      expect(acc.body).to.include({
        sanbiaoBalance: 1_500_000,
        availableBalance: 500_000,
        lockedBalance: 0,
      });
      const list = await api.get('/api/v1/me/orders?status=1', { token: inv.token });
      expect(list.body.items[0]).to.include({
        creditorNo: body.creditorNo,
        amountBuy: 1_500_000,
        status: 1,
        productType: 1,
        term: 30,
      });
      expect(
        (await api.get('/api/v1/me/orders?status=2', { token: inv.token })).body.total,
      ).to.equal(0);
      expect(
        (await api.get('/api/v1/me/orders?productType=2', { token: inv.token })).body.total,
      ).to.equal(0);
    });

    it('when an investor pays by card, then the sandbox collects, calls back signed, and the order is paid with the money in escrow', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { cardLast4: '1234' });
      const res = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'card' },
        { token: inv.token },
      );
      const o = await settledOrder(res.body.id);
      expect(o.status).to.equal('paid');
      const instr = (await PaymentInstruction.findOne({
        where: { purpose: 'order', refId: o.id },
      }))!;
      expect(instr.status).to.equal('succeeded');
      expect(await GatewayCallback.count({ where: { instructionId: instr.id } })).to.equal(1);
      expect(await balance(inv.userId, 'invested')).to.equal(1_000_000n);
    });

    it('when the card is declined (…0002), then the order fails with the reason and the share is released', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { cardLast4: '0002' });
      const res = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'card' },
        { token: inv.token },
      );
      const o = await settledOrder(res.body.id);
      expect(o.status).to.equal('failed');
      expect(o.failCode).to.equal('PAYMENT_FAILED');
      expect(o.failReason).to.contain('declined');
      const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
      expect([loan.lockedAmount, loan.boughtAmount]).to.deep.equal([0n, 0n]);
      expect(await balance(inv.userId, 'invested')).to.equal(0n);
    });

    it('when the card is silent (…0119), then the order waits; the status query resolves it once the gateway knows', async () => {
      const { body } = await newLoan();
      const { orderId, instr } = await silentOrder(body.creditorNo);
      expect(
        await queryInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, String(instr.id)),
      ).to.equal('still pending');
      expect((await instr.reload()).status).to.equal('unknown');
      expect((await order(orderId)).status).to.equal('paying');
      await new Promise((r) => setTimeout(r, 350));
      expect(
        await queryInstruction({ gateway: rt.ports.gateway, cipher: rt.cipher }, String(instr.id)),
      ).to.equal('order paid');
      expect((await order(orderId)).status).to.equal('paid');
    });

    for (const [label, setup, amount, code] of [
      ['KYC is not verified', { kyc: false }, 1_000_000, 'KYC_NOT_VERIFIED'],
      ['no card is bound', { card: false }, 1_000_000, 'NO_BANK_CARD'],
      [
        'the investor has a loan at the partner (NIK …9999)',
        { nikSerial: '9999' },
        1_000_000,
        'HAS_PARTNER_LOAN',
      ],
      ['the amount is below the minimum', {}, 50_000, 'AMOUNT_TOO_SMALL'],
      ['the amount is not a multiple of the step', {}, 150_001, 'AMOUNT_NOT_STEP'],
      ['the investor limit would be exceeded', {}, 60_000_000, 'OVER_LIMIT'],
      ['the loan has not enough room', {}, 10_100_000, 'NOT_ENOUGH_ROOM'],
      [
        'the wallet is short',
        { wallet: 100_000n, pay: 'wallet' },
        1_000_000,
        'INSUFFICIENT_BALANCE',
      ],
    ] as const) {
      it(`when ${label}, then the order is rejected with ${code} and nothing is reserved`, async () => {
        const { body } = await newLoan({
          amountApply: code === 'OVER_LIMIT' ? 100_000_000 : 10_000_000,
        });
        const inv = await makeInvestor(rt, setup as Parameters<typeof makeInvestor>[1]);
        const payWith = (setup as { pay?: string }).pay ?? 'card';
        const res = await api.post(
          '/api/v1/orders',
          { creditorNo: body.creditorNo, amount, payWith },
          { token: inv.token },
        );
        expect(res.status).to.equal(202);
        const o = await settledOrder(res.body.id);
        expect(o.status).to.equal('rejected');
        expect(o.failCode).to.equal(code);
        expect(o.failReason).to.be.a('string');
        const loan = (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
        expect([loan.lockedAmount, loan.boughtAmount]).to.deep.equal([0n, 0n]);
        expect(
          await PaymentInstruction.count({ where: { purpose: 'order', refId: o.id } }),
        ).to.equal(0);
      });
    }

    it('when the same Idempotency-Key and body are posted twice, then one order; another body is 409', async () => {
      const { body } = await newLoan();
      const inv = await makeInvestor(rt, { wallet: 5_000_000n });
      const headers = { 'Idempotency-Key': 'buy-1' };
      const a = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'wallet' },
        { token: inv.token, headers },
      );
      const b = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'wallet' },
        { token: inv.token, headers },
      );
      expect(b.body.id).to.equal(a.body.id);
      const c = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 2_000_000, payWith: 'wallet' },
        { token: inv.token, headers },
      );
      expect(c.status).to.equal(409);
      await settledOrder(a.body.id);
      expect(await Order.count({ where: { userId: inv.userId } })).to.equal(1);
    });

    it('when another investor asks for an order, then 404', async () => {
      const { body } = await newLoan();
      const a = await makeInvestor(rt, { wallet: 1_000_000n });
      const b = await makeInvestor(rt);
      const res = await api.post(
        '/api/v1/orders',
        { creditorNo: body.creditorNo, amount: 1_000_000, payWith: 'wallet' },
        { token: a.token },
      );
      expect((await api.get(`/api/v1/orders/${res.body.id}`, { token: b.token })).status).to.equal(
        404,
      );
    });
  });
});
