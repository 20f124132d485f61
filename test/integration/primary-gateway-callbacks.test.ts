import { expect } from 'chai';
import sinon from 'sinon';
import { Loan } from '../../src/modules/loans/loan.model';
import { Asset } from '../../src/modules/assets/asset.model';
import { GatewayCallback, PaymentInstruction } from '../../src/modules/payments/payment.model';
import {
  acknowledge,
  applyCallback,
  resolveHeldInstruction,
} from '../../src/modules/payments/payments.service';
import { reconcile } from '../../src/modules/reconciliation/reconciliation.service';
import { QueueName } from '../../src/queues/queues';
import { eventually } from '../helpers/api';
import { testDb } from '../helpers/context';
import { signedPost } from '../helpers/market';
import {
  usePrimaryMarket,
  silentOrder,
  rt,
  url,
  partnerSecret,
  gatewaySecret,
  newLoan,
  order,
  balance,
} from '../helpers/primary-market';

describe('primary market: gateway callbacks', function () {
  this.timeout(30_000);
  usePrimaryMarket('primary-gateway-callbacks');

  describe('gateway callbacks', () => {
    async function pendingCardOrder() {
      const { body } = await newLoan();
      return { ...(await silentOrder(body.creditorNo)), creditorNo: body.creditorNo };
    }
    const callback = (
      instr: PaymentInstruction,
      status: 'success' | 'failed',
      ts: number,
      amount = 1_000_000,
    ) =>
      signedPost(
        url,
        '/callbacks/v1/payments',
        {
          instructionId: String(instr.id),
          gatewayTxnId: `T${instr.id}`,
          status,
          amount,
          ...(status === 'failed' ? { failReason: 'insufficient funds' } : {}),
        },
        gatewaySecret(),
        { timestamp: ts },
      );

    it('when the same success callback arrives 10 times, then it has one effect', async () => {
      const { orderId, instr, inv } = await pendingCardOrder();
      const now = Math.floor(Date.now() / 1000);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, k) => callback(instr, 'success', now - k)),
      );
      expect(results.every((r) => r.status === 200)).to.equal(true);
      await eventually(async () => (await order(orderId)).status === 'paid');
      await eventually(async () =>
        (await GatewayCallback.findAll({ where: { instructionId: instr.id } })).every(
          (c) => c.processedAt !== null,
        ),
      );
      const outcomes = (await GatewayCallback.findAll({ where: { instructionId: instr.id } })).map(
        (c) => c.outcome,
      );
      expect(outcomes.filter((o) => o === 'order paid')).to.have.length(1);
      expect(outcomes.filter((o) => o === 'duplicate')).to.have.length(9);
      expect(await balance(inv.userId, 'invested')).to.equal(1_000_000n);
      expect(await Asset.count({ where: { orderId } })).to.equal(1);
    });

    it('when a failure and then a success arrive in reverse order, then the first applied wins and the other is recorded as a conflict', async () => {
      const { orderId, instr, creditorNo } = await pendingCardOrder();
      const now = Math.floor(Date.now() / 1000);
      expect((await callback(instr, 'success', now)).status).to.equal(200);
      await eventually(async () => (await order(orderId)).status === 'paid');
      expect((await callback(instr, 'failed', now - 5)).status).to.equal(200);
      await eventually(async () =>
        (await GatewayCallback.findAll({ where: { instructionId: instr.id } })).every(
          (c) => c.processedAt !== null,
        ),
      );
      const outcomes = (
        await GatewayCallback.findAll({
          where: { instructionId: instr.id },
          order: [['id', 'ASC']],
        })
      ).map((c) => c.outcome);
      expect(outcomes[1]).to.match(/^conflict/);
      expect((await order(orderId)).status).to.equal('paid');
      expect((await Loan.findOne({ where: { creditorNo } }))!.boughtAmount).to.equal(1_000_000n);
    });

    it('when a callback is forged or stale, then 401 and nothing is stored or changed; a replay gets the first answer and has no second effect', async () => {
      const { orderId, instr } = await pendingCardOrder();
      const body = {
        instructionId: String(instr.id),
        gatewayTxnId: 'X',
        status: 'success',
        amount: 1_000_000,
      };
      const forged = await signedPost(url, '/callbacks/v1/payments', body, partnerSecret());
      const stale = await signedPost(url, '/callbacks/v1/payments', body, gatewaySecret(), {
        timestamp: Math.floor(Date.now() / 1000) - 400,
      });
      const noSig = await signedPost(url, '/callbacks/v1/payments', body, gatewaySecret(), {
        signature: 'abc',
      });
      for (const r of [forged, stale, noSig]) expect(r.status).to.equal(401);
      const ts = Math.floor(Date.now() / 1000);
      expect(
        (
          await signedPost(
            url,
            '/callbacks/v1/payments',
            { ...body, status: 'failed' },
            gatewaySecret(),
            { timestamp: ts },
          )
        ).status,
      ).to.equal(200);
      await eventually(async () => (await order(orderId)).status === 'failed');
      const replay = await signedPost(
        url,
        '/callbacks/v1/payments',
        { ...body, status: 'failed' },
        gatewaySecret(),
        { timestamp: ts },
      );
      expect(replay).to.deep.equal({ status: 200, body: { received: true } });
      expect(await GatewayCallback.count({ where: { instructionId: instr.id } })).to.equal(1);
      expect((await order(orderId)).status).to.equal('failed');
    });

    it('when the amount does not match the instruction, then nothing is applied, the instruction is held and reconcile tells finance what to do', async () => {
      const { orderId, instr } = await pendingCardOrder();
      expect(
        (await callback(instr, 'success', Math.floor(Date.now() / 1000), 999)).status,
      ).to.equal(200);
      await eventually(async () =>
        (await GatewayCallback.findAll({ where: { instructionId: instr.id } })).every(
          (c) => c.processedAt !== null,
        ),
      );
      expect(
        (await GatewayCallback.findOne({ where: { instructionId: instr.id } }))!.outcome,
      ).to.match(/^amount mismatch/);
      expect((await order(orderId)).status).to.equal('paying');
      expect((await PaymentInstruction.findByPk(instr.id))!.status).to.equal('held');
      const creditorNo = (await order(orderId)).creditorNo;
      const listed = await reconcile(testDb(), { loans: [creditorNo] });
      expect(listed.map((m) => m.check)).to.include.members([
        'instruction.held',
        'callback.not_applied',
      ]);
      expect(listed.find((m) => m.check === 'instruction.held')!.action).to.contain(
        `finance instruction:resolve ${instr.id}`,
      );
      // Finance checks with the gateway and applies the right reading; then acknowledges.
      expect(await resolveHeldInstruction(String(instr.id), 'success')).to.equal('order paid');
      const cb = (await GatewayCallback.findOne({ where: { instructionId: instr.id } }))!;
      await acknowledge('callback', String(cb.id), 'test');
      expect(await reconcile(testDb(), { loans: [creditorNo] })).to.deep.equal([]);
    });

    it('when the reconciliation crashes after its first write and runs again, then the effect is applied once', async () => {
      const { orderId, instr, inv } = await pendingCardOrder();
      await rt.queues.get(QueueName.Payments)!.pause();
      try {
        expect((await callback(instr, 'success', Math.floor(Date.now() / 1000))).status).to.equal(
          200,
        );
        const cb = (await GatewayCallback.findOne({ where: { instructionId: instr.id } }))!;
        const crash = sinon
          .stub(GatewayCallback.prototype, 'update')
          .rejects(new Error('worker died'));
        await applyCallback(String(cb.id)).catch(() => undefined);
        crash.restore();
        expect((await order(orderId)).status).to.equal('paying');
        expect(await balance(inv.userId, 'invested')).to.equal(0n);
        expect(await applyCallback(String(cb.id))).to.equal('order paid');
        expect(await applyCallback(String(cb.id))).to.equal('order paid');
        expect(await balance(inv.userId, 'invested')).to.equal(1_000_000n);
        expect(await Asset.count({ where: { orderId } })).to.equal(1);
      } finally {
        await rt.queues.get(QueueName.Payments)!.resume();
      }
    });
  });
});
