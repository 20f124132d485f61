import { expect } from 'chai';
import { PaymentInstruction } from '../../src/modules/payments/payment.model';
import { queryInstruction } from '../../src/modules/payments/payments.service';
import { Recharge, Withdrawal } from '../../src/modules/wallet/wallet.model';
import { eventually } from '../helpers/api';
import { makeInvestor } from '../helpers/market';
import { usePrimaryMarket, rt, api, balance } from '../helpers/primary-market';

describe('wallet: recharges and withdrawals', function () {
  this.timeout(30_000);
  usePrimaryMarket('wallet');

  describe('wallet', () => {
    it('when an investor recharges and withdraws, then the wallet moves with each step and a failed payout returns the money', async () => {
      const inv = await makeInvestor(rt, { cardLast4: '4321' });
      const r = await api.post(
        '/api/v1/me/recharges',
        { amount: 3_000_000 },
        { token: inv.token, headers: { 'Idempotency-Key': 'r1' } },
      );
      expect(r.status).to.equal(202);
      const again = await api.post(
        '/api/v1/me/recharges',
        { amount: 3_000_000 },
        { token: inv.token, headers: { 'Idempotency-Key': 'r1' } },
      );
      expect(again.body.id).to.equal(r.body.id);
      await eventually(async () => (await Recharge.findByPk(r.body.id))!.status === 'succeeded');
      expect(await balance(inv.userId, 'available')).to.equal(3_000_000n);
      const w = await api.post(
        '/api/v1/me/withdrawals',
        { amount: 1_000_000 },
        { token: inv.token },
      );
      expect(w.status).to.equal(202);
      expect(await balance(inv.userId, 'locked')).to.equal(1_000_000n);
      await eventually(async () => (await Withdrawal.findByPk(w.body.id))!.status === 'succeeded');
      expect([
        await balance(inv.userId, 'available'),
        await balance(inv.userId, 'locked'),
      ]).to.deep.equal([2_000_000n, 0n]);
      const tooMuch = await api.post(
        '/api/v1/me/withdrawals',
        { amount: 5_000_000 },
        { token: inv.token },
      );
      expect(tooMuch.status).to.equal(422);
      expect(tooMuch.body.error.code).to.equal('INSUFFICIENT_BALANCE');
      expect(await Withdrawal.count({ where: { userId: inv.userId } })).to.equal(1);
    });

    it('when a withdrawal payout is declined (…0002), then the money stays locked until a status query confirms the decline, then returns to available', async () => {
      const inv = await makeInvestor(rt, { cardLast4: '0002', wallet: 1_000_000n });
      const w = await api.post('/api/v1/me/withdrawals', { amount: 400_000 }, { token: inv.token });
      const payout = async () =>
        (await PaymentInstruction.findOne({ where: { purpose: 'withdrawal', refId: w.body.id } }))!;
      await eventually(async () => (await payout()).status === 'declined');
      expect((await Withdrawal.findByPk(w.body.id))!.status).to.equal('pending');
      expect([
        await balance(inv.userId, 'available'),
        await balance(inv.userId, 'locked'),
      ]).to.deep.equal([600_000n, 400_000n]);
      expect(
        await queryInstruction(
          { gateway: rt.ports.gateway, cipher: rt.cipher },
          (await payout()).id,
        ),
      ).to.equal('withdrawal failed');
      expect((await Withdrawal.findByPk(w.body.id))!.status).to.equal('failed');
      expect([
        await balance(inv.userId, 'available'),
        await balance(inv.userId, 'locked'),
      ]).to.deep.equal([1_000_000n, 0n]);
    });

    it('when a recharge is declined, then it fails and the wallet is unchanged', async () => {
      const inv = await makeInvestor(rt, { cardLast4: '0002' });
      const r = await api.post('/api/v1/me/recharges', { amount: 500_000 }, { token: inv.token });
      await eventually(async () => (await Recharge.findByPk(r.body.id))!.status === 'failed');
      expect(await balance(inv.userId, 'available')).to.equal(0n);
    });
  });
});
