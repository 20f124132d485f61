/**
 * Finance CLI: `npm run finance -- <command> [options] --operator <name>`. Every command that
 * changes something is recorded in `ops_audit` with the operator; work is started through the
 * transactional outbox (the workers' relay picks it up).
 */
import os from 'node:os';
import { Command } from 'commander';
import type { Job } from 'bullmq';
import { withTransaction } from '../src/lib/db';
import { checkLedger } from '../src/modules/ledger/ledger.service';
import { Loan } from '../src/modules/loans/loan.model';
import { Order } from '../src/modules/orders/order.model';
import { OrderStatus } from '../src/modules/orders/order.states';
import { countPendingOutbox, enqueueAfterCommit } from '../src/modules/outbox/outbox.service';
import { PaymentInstruction } from '../src/modules/payments/payment.model';
import {
  acknowledge,
  paymentDeps,
  queryInstruction,
  resolveHeldInstruction,
} from '../src/modules/payments/payments.service';
import { reconcile } from '../src/modules/reconciliation/reconciliation.service';
import { Repayment } from '../src/modules/repayments/repayment.model';
import { clearRepayment, returnRepayment } from '../src/modules/repayments/repayments.service';
import { retryDisbursement } from '../src/modules/settlement/settlement.service';
import { CreditOrder } from '../src/modules/transfers/credit-order.model';
import { openRuntime, type Runtime } from '../src/runtime';

const program = new Command()
  .name('finance')
  .description('finance operations: ledger checks, failed jobs, requeues, retries, reconciliation')
  .option('--operator <name>', 'who runs this (recorded with every action)', os.userInfo().username)
  .option('--json', 'print JSON');

const pad = (s: string, n: number) => s.padEnd(n);
const num = (v: bigint) => v.toLocaleString('en-US');
const json = (v: unknown) =>
  JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2);

/** Runs one command with a runtime, records it in ops_audit, prints the result. */
function action<A extends unknown[]>(
  name: string,
  fn: (rt: Runtime, ...args: A) => Promise<{ text: string; exitCode?: number; data?: unknown }>,
) {
  return async (...args: A) => {
    const rt = openRuntime('finance', { logger: undefined });
    const { operator, json: asJson } = program.opts<{ operator: string; json?: boolean }>();
    try {
      const res = await fn(rt, ...args);
      await rt.sequelize.query(
        'INSERT INTO ops_audit (operator, action, args, result) VALUES ($1, $2, $3::jsonb, $4)',
        {
          bind: [
            operator,
            name,
            JSON.stringify(args.filter((a) => typeof a !== 'object')),
            res.text.slice(0, 2000),
          ],
        },
      );
      rt.logger.info(
        { operator, action: name, args: args.filter((a) => typeof a !== 'object') },
        'finance action',
      );
      console.log(asJson && res.data !== undefined ? json(res.data) : res.text);
      process.exitCode = res.exitCode ?? 0;
    } finally {
      await rt.relay.drain().catch(() => undefined);
      await rt.close();
    }
  };
}

program
  .command('ledger:check')
  .description('trial balance per account type and cached-balance check; exits 2 on any mismatch')
  .action(
    action('ledger:check', async () => {
      const r = await checkLedger();
      const lines = [
        'Trial balance by account type',
        `  ${pad('type', 24)} ${pad('accounts', 9)} balance`,
      ];
      for (const t of r.byType)
        lines.push(`  ${pad(t.type, 24)} ${pad(String(t.accounts), 9)} ${num(t.balance)}`);
      lines.push(
        `  ${pad('TOTAL (entries)', 34)} ${num(r.trialBalance)}`,
        `  ${pad('TOTAL (cached balances)', 34)} ${num(r.cachedTotal)}`,
      );
      if (r.mismatches.length) {
        lines.push('', 'Accounts whose cached balance differs from the sum of their entries:');
        for (const m of r.mismatches)
          lines.push(`  ${pad(m.code, 40)} cached ${num(m.cached)}  entries ${num(m.computed)}`);
      }
      if (r.unbalancedTransactions.length) {
        lines.push('', 'Unbalanced ledger transactions:');
        for (const u of r.unbalancedTransactions)
          lines.push(`  ${pad(u.idempotencyKey, 40)} sum ${num(u.sum)}`);
      }
      lines.push('', r.ok ? 'ledger OK' : 'LEDGER MISMATCH');
      return { text: lines.join('\n'), exitCode: r.ok ? 0 : 2, data: r };
    }),
  );

program
  .command('reconcile')
  .description(
    'ledger ↔ instructions ↔ orders ↔ plans ↔ schedules ↔ assets ↔ notes; lists every mismatch and what waits for finance, with the action to take; exits 2 on any',
  )
  .option('--loan <creditorNo...>', 'only these loans and the investors who hold them')
  .action(
    action('reconcile', async (rt, opts: { loan?: string[] }) => {
      const list = await reconcile(rt.sequelize, { loans: opts.loan });
      const text = list.length
        ? list
            .map(
              (m) =>
                `${pad(m.check, 32)} ${pad(m.ref, 28)} ${m.detail}\n${pad('', 33)}→ ${m.action}`,
            )
            .join('\n') + `\n\n${list.length} mismatch(es)`
        : 'reconciled: no mismatch';
      return { text, exitCode: list.length ? 2 : 0, data: list };
    }),
  );

program
  .command('jobs:failed')
  .description('failed jobs per queue')
  .option('--queue <name>', 'one queue only')
  .action(
    action('jobs:failed', async (rt, opts: { queue?: string }) => {
      const lines: string[] = [];
      const data: Record<string, unknown[]> = {};
      for (const [name, queue] of rt.queues) {
        if (opts.queue && opts.queue !== name) continue;
        const jobs = await queue.getFailed(0, 199);
        data[name] = jobs.map((j) => ({
          id: j.id,
          name: j.name,
          attempts: j.attemptsMade,
          reason: j.failedReason,
          data: j.data,
        }));
        lines.push(`${name}: ${jobs.length} failed`);
        for (const j of jobs)
          lines.push(
            `  ${pad(String(j.id), 28)} ${pad(j.name, 26)} attempts ${j.attemptsMade}  ${j.failedReason}`,
          );
      }
      return { text: lines.join('\n'), data };
    }),
  );

program
  .command('jobs:retry <queue> [jobId]')
  .description('retry one failed job, or all failed jobs of a queue with --all')
  .option('--all', 'every failed job of the queue')
  .action(
    action(
      'jobs:retry',
      async (rt, queueName: string, jobId: string | undefined, opts: { all?: boolean }) => {
        const queue = rt.queues.get(queueName);
        if (!queue)
          return {
            text: `no queue ${queueName} (queues: ${[...rt.queues.keys()].join(', ')})`,
            exitCode: 1,
          };
        if (!opts.all && !jobId) return { text: 'give a job id or --all', exitCode: 1 };
        const one = jobId && !opts.all ? await queue.getJob(jobId) : undefined;
        if (jobId && !opts.all && !one)
          return { text: `no job ${jobId} in ${queueName}`, exitCode: 1 };
        const jobs: Job[] = one ? [one] : await queue.getFailed(0, 9999);
        let retried = 0;
        for (const j of jobs) {
          if ((await j.getState()) !== 'failed') continue;
          await j.retry('failed');
          retried += 1;
        }
        return { text: `${retried} job(s) retried in ${queueName}` };
      },
    ),
  );

program
  .command('order:requeue <orderId>')
  .description(
    'start again the job a stuck order waits for (lock for pending, expiry for an unpaid lock)',
  )
  .action(
    action('order:requeue', async (rt, orderId: string) => {
      const order = await Order.findByPk(orderId);
      if (!order) return { text: `no order ${orderId}`, exitCode: 1 };
      const job =
        order.status === OrderStatus.Pending
          ? 'order.lock'
          : order.holdsLock
            ? 'order.expire'
            : undefined;
      if (!job)
        return { text: `order ${orderId} is ${order.status}: nothing to requeue`, exitCode: 1 };
      await withTransaction(rt.sequelize, (transaction) =>
        enqueueAfterCommit(
          job,
          { orderId: String(order.id) },
          {
            transaction,
            runAt: job === 'order.expire' ? (order.lockExpiresAt ?? undefined) : undefined,
          },
        ),
      );
      return { text: `order ${orderId} (${order.status}): ${job} queued` };
    }),
  );

program
  .command('instruction:requeue <instructionId>')
  .description('submit again an instruction left created, or query one without a result')
  .action(
    action('instruction:requeue', async (rt, id: string) => {
      const i = await PaymentInstruction.findByPk(id);
      if (!i) return { text: `no instruction ${id}`, exitCode: 1 };
      const job =
        i.status === 'created'
          ? 'instruction.submit'
          : ['submitted', 'unknown'].includes(i.status)
            ? 'instruction.query'
            : undefined;
      if (!job)
        return { text: `instruction ${id} is ${i.status}: nothing to requeue`, exitCode: 1 };
      await withTransaction(rt.sequelize, (transaction) =>
        enqueueAfterCommit(job, { instructionId: String(i.id) }, { transaction }),
      );
      return { text: `instruction ${id} (${i.status}): ${job} queued` };
    }),
  );

program
  .command('instruction:query <instructionId>')
  .description('ask the gateway now about an instruction, and apply a final answer')
  .action(
    action('instruction:query', async (rt, id: string) => {
      if (!(await PaymentInstruction.findByPk(id)))
        return { text: `no instruction ${id}`, exitCode: 1 };
      return {
        text: `instruction ${id}: ${await queryInstruction(paymentDeps(rt), id)}`,
      };
    }),
  );

program
  .command('disbursement:retry <creditorNo>')
  .description('pay out again a loan whose disbursement failed (disburse_failed → disbursing)')
  .action(
    action('disbursement:retry', async (_rt, creditorNo: string) => {
      const loan = await Loan.findOne({ where: { creditorNo } });
      if (!loan) return { text: `no loan ${creditorNo}`, exitCode: 1 };
      return { text: `loan ${creditorNo}: ${await retryDisbursement(loan.id)}` };
    }),
  );

program
  .command('repayment:clear <repaymentNo>')
  .description('clear a held repayment again (after the schedule or the report was corrected)')
  .action(
    action('repayment:clear', async (_rt, repaymentNo: string) => {
      const r = await Repayment.findOne({ where: { repaymentNo } });
      if (!r) return { text: `no repayment ${repaymentNo}`, exitCode: 1 };
      return {
        text: `repayment ${repaymentNo}: ${await clearRepayment(r.id, { fromHeld: true })}`,
      };
    }),
  );

program
  .command('repayment:return <repaymentNo>')
  .description(
    'send a held repayment back to the partner (custody transfer out of escrow), e.g. after a corrected report',
  )
  .action(
    action('repayment:return', async (_rt, repaymentNo: string) => {
      const r = await Repayment.findOne({ where: { repaymentNo } });
      if (!r) return { text: `no repayment ${repaymentNo}`, exitCode: 1 };
      return { text: `repayment ${repaymentNo}: ${await returnRepayment(r.id)}` };
    }),
  );

program
  .command('instruction:resolve <instructionId> <result>')
  .description(
    'apply finance’s reading (success or failed) of an instruction held for another amount, after checking with the gateway',
  )
  .action(
    action('instruction:resolve', async (_rt, id: string, result: string) => {
      if (result !== 'success' && result !== 'failed')
        return { text: 'the result is success or failed', exitCode: 1 };
      return { text: `instruction ${id}: ${await resolveHeldInstruction(id, result)}` };
    }),
  );

program
  .command('instruction:ack <instructionId>')
  .description('mark an instruction whose result could not be applied as handled (money recovered)')
  .action(
    action('instruction:ack', async (_rt, id: string) => {
      const { operator } = program.opts<{ operator: string }>();
      return { text: await acknowledge('instruction', id, operator) };
    }),
  );

program
  .command('callback:ack <callbackId>')
  .description('mark a gateway callback that was not applied as handled')
  .action(
    action('callback:ack', async (_rt, id: string) => {
      const { operator } = program.opts<{ operator: string }>();
      return { text: await acknowledge('callback', id, operator) };
    }),
  );

program
  .command('credit-orders:abnormal')
  .description('secondary-market orders whose buyer payment has no answer (abnormal)')
  .action(
    action('credit-orders:abnormal', async () => {
      const rows = await CreditOrder.findAll({
        where: { status: 'abnormal' },
        order: [['id', 'ASC']],
        limit: 500,
      });
      const text = rows.length
        ? rows
            .map(
              (o) =>
                `credit order ${o.id}  note ${o.noteId}  principal ${o.principal}  pay ${o.payAmount}  buyer ${o.buyerId}  since ${o.createdAt.toISOString()}`,
            )
            .join('\n')
        : 'no abnormal credit order';
      return {
        text,
        data: rows.map((o) => ({
          id: String(o.id),
          noteId: String(o.noteId),
          payAmount: String(o.payAmount),
        })),
      };
    }),
  );

program
  .command('credit-order:retry <id>')
  .description('ask the gateway now about an abnormal order’s payment and carry the order on')
  .action(
    action('credit-order:retry', async (rt, id: string) => {
      const o = await CreditOrder.findByPk(id);
      if (!o) return { text: `no credit order ${id}`, exitCode: 1 };
      const i = await PaymentInstruction.findOne({ where: { purpose: 'transfer', refId: o.id } });
      if (!i)
        return {
          text: `credit order ${id} (${o.status}) has no payment yet: requeue it instead`,
          exitCode: 1,
        };
      const answer = await queryInstruction(paymentDeps(rt), String(i.id));
      return {
        text: `credit order ${id}: payment ${answer}; order now ${(await o.reload()).status}`,
      };
    }),
  );

program
  .command('credit-order:requeue <id>')
  .description('start the confirm job of a credit order again (it resumes at the right step)')
  .action(
    action('credit-order:requeue', async (rt, id: string) => {
      const o = await CreditOrder.findByPk(id);
      if (!o) return { text: `no credit order ${id}`, exitCode: 1 };
      if (o.status === 'success' || o.status === 'failed')
        return { text: `credit order ${id} is ${o.status}: nothing to requeue`, exitCode: 1 };
      await withTransaction(rt.sequelize, (transaction) =>
        enqueueAfterCommit('credit-order.confirm', { orderId: String(o.id) }, { transaction }),
      );
      return { text: `credit order ${id} (${o.status}): credit-order.confirm queued` };
    }),
  );

program
  .command('outbox:pending')
  .description('how many committed outbox rows are not yet relayed')
  .action(
    action('outbox:pending', async () => ({
      text: `${await countPendingOutbox()} outbox row(s) pending`,
    })),
  );

program.parseAsync().catch((err: Error) => {
  console.error(`finance: ${err.message}`);
  process.exit(1);
});
