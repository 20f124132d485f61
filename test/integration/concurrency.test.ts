import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { Op } from 'sequelize';
import { Loan } from '../../src/modules/loans/loan.model';
import { checkLedger } from '../../src/modules/ledger/ledger.service';
import { Asset } from '../../src/modules/assets/asset.model';
import { Order } from '../../src/modules/orders/order.model';
import { QueueName } from '../../src/queues/queues';
import { apiClient, eventually } from '../helpers/api';
import { freePort, startApp, testRuntime } from '../helpers/context';
import { loanBody, makeInvestor, signedPost } from '../helpers/market';

const ROOT = path.resolve(__dirname, '..', '..');

/** A worker process, as production runs them on separate machines. */
function spawnWorker(env: Record<string, string>): {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | null>;
  output: () => string;
} {
  // node --import tsx, as the Procfile runs it: signals reach the worker itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'jobs/worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += String(d);
      if (out.includes('worker started')) resolve();
    });
    child.stderr!.on('data', (d) => (out += String(d)));
    child.on('exit', () => reject(new Error(`worker exited before starting:\n${out}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, ready, exited, output: () => out.slice(-3000) };
}

describe('concurrent purchases on one loan, two worker processes', function () {
  this.timeout(120_000);

  it('when 200 investors buy random amounts at once, then locked + bought never exceeds the amount and bought equals the paid orders', async () => {
    const port = await freePort();
    const base = testRuntime.defaults();
    const rt = testRuntime('concurrency', {
      gateway: {
        ...base.gateway,
        sandboxDelayMs: 20,
        sandboxCallbackUrl: `http://127.0.0.1:${port}/callbacks/v1/payments`,
      },
    });
    const { url, close } = await startApp(rt, [], port);
    const env = {
      QUEUE_PREFIX: rt.config.queuePrefix,
      GATEWAY_SANDBOX_CALLBACK_URL: rt.config.gateway.sandboxCallbackUrl,
      GATEWAY_SANDBOX_DELAY_MS: '20',
    };
    const workers = [spawnWorker(env), spawnWorker(env)];
    try {
      await Promise.all(workers.map((w) => w.ready));
      const body = loanBody({ amountApply: 50_000_000, serviceFee: 1_000_000 });
      expect(
        (await signedPost(url, '/partner/v1/loans', body, rt.config.partner.secret)).status,
      ).to.equal(201);
      const investors = [];
      for (let i = 0; i < 200; i++)
        investors.push(await makeInvestor(rt, { wallet: i % 4 === 0 ? undefined : 3_000_000n }));
      const api = apiClient(url);
      // Sampled up front (not inside the loop) so that the run is easy to reason about.
      const amounts = investors.map(() => 100_000 * randomInt(1, 21));
      const placed = await Promise.all(
        investors.map((inv, i) =>
          api.post(
            '/api/v1/orders',
            {
              creditorNo: body.creditorNo,
              amount: amounts[i],
              payWith: i % 4 === 0 ? 'card' : 'wallet',
            },
            { token: inv.token },
          ),
        ),
      );
      expect(placed.every((p) => p.status === 202)).to.equal(true);
      const ids = placed.map((p) => p.body.id as string);
      let maxSeen = 0n;
      const loanRow = async () => (await Loan.findOne({ where: { creditorNo: body.creditorNo } }))!;
      await eventually(async () => {
        const l = await loanRow();
        const used = l.lockedAmount + l.boughtAmount;
        if (used > maxSeen) maxSeen = used;
        expect(used <= l.amount, `oversold: ${used} > ${l.amount}`).to.equal(true);
        return (
          (await Order.count({
            where: { id: ids, status: { [Op.in]: ['pending', 'locked', 'paying'] } },
          })) === 0
        );
      }, 90_000);
      const loan = await loanRow();
      const paid = await Order.findAll({ where: { id: ids, status: 'paid' } });
      const paidTotal = paid.reduce((s, o) => s + o.amount, 0n);
      expect(loan.lockedAmount).to.equal(0n);
      expect(loan.boughtAmount).to.equal(paidTotal);
      expect(loan.boughtAmount <= loan.amount).to.equal(true);
      expect(maxSeen <= loan.amount).to.equal(true);
      const assets = await Asset.findAll({ where: { loanId: loan.id } });
      expect(assets.reduce((s, a) => s + a.principal, 0n)).to.equal(paidTotal);
      const others = await Order.findAll({ where: { id: ids, status: { [Op.ne]: 'paid' } } });
      // Refused for want of room, or because the loan, bought out, went on to settlement.
      const reasons = new Set(others.map((o) => `${o.status}:${o.failCode}`));
      expect(
        [...reasons].every((r) =>
          ['rejected:NOT_ENOUGH_ROOM', 'rejected:LOAN_NOT_OPEN'].includes(r),
        ),
        [...reasons].join(', '),
      ).to.equal(true);
      // Both processes took part.
      const lockJobs = await rt.queues.get(QueueName.Orders)!.getJobs(['completed'], 0, 1000);
      expect(new Set(lockJobs.map((j) => j.processedBy)).size).to.equal(2);
      const check = await checkLedger();
      expect(check.mismatches).to.deep.equal([]);
      expect(check.ok).to.equal(true);
    } finally {
      for (const w of workers) w.child.kill('SIGTERM');
      for (const w of workers) expect(await w.exited, w.output()).to.equal(0);
      await close();
    }
  });
});
