import { QueryTypes, Transaction } from 'sequelize';
import type { Config } from '../../../config';
import { withTransaction } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { idrToJson } from '../../lib/money';
import { AccountType, investorAccount, platformAccount } from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import { postTransaction } from '../ledger/ledger.service';
import { Loan } from '../loans/loan.model';
import { LoanStatus, loanMachine } from '../loans/loan.states';
import { Asset } from '../assets/asset.model';
import { Order } from '../orders/order.model';
import { OrderStatus } from '../orders/order.states';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { notifyPartner } from '../partner/notifications.service';
import { createInstruction } from '../payments/instructions';
import { PaymentInstruction } from '../payments/payment.model';
import { RepaymentPlan, RepaymentSchedule } from '../schedules/schedule.model';
import {
  buildPlan,
  deriveHolderSchedules,
  planRowView,
  type ScheduleRow,
} from '../schedules/schedule';
import { endOfJakartaDay, jakartaDate, now, nowMs } from '../../lib/clock';
import { AssetStatus } from '../assets/asset.states';
import { PeriodStatus } from '../schedules/schedule.states';

/**
 * The loan.settle job (SPEC §3, seed 定时任务), one transaction per run, the loan row locked:
 * - open → settling at the deadline, or as soon as the loan is bought out;
 * - settling waits while any order still holds a lock (it runs again after the last lock
 *   expires), then: nothing bought → failed (流标, partner told); partly bought → the super
 *   investor buys the rest (超级投资人合买); bought out → full;
 * - full → disbursing: service fee kept, the rest paid out to the borrower's card.
 * Safe to run any number of times: each step looks at the loan's state first.
 */
export async function settleLoan(
  deps: { config: Readonly<Config> },
  loanId: string,
): Promise<string> {
  return withTransaction(Loan.sequelize!, async (transaction) => {
    const loan = await Loan.findByPk(loanId, { transaction, lock: Transaction.LOCK.NO_KEY_UPDATE });
    if (!loan) throw new AppError('NOT_FOUND', `no loan ${loanId}`, [], { retryable: false });
    const due = nowMs() >= loan.deadline.getTime();
    if (loan.status === LoanStatus.Open) {
      if (!due && loan.boughtAmount < loan.amount) return 'open until the deadline';
      await loanMachine.transition(loan, LoanStatus.Settling, {}, { transaction });
    }
    if (loan.status === LoanStatus.Settling) {
      const [held] = await Loan.sequelize!.query<{ n: string; last: Date | null }>(
        'SELECT COUNT(*)::text AS n, MAX(lock_expires_at) AS last FROM orders WHERE loan_id = $1 AND holds_lock',
        { bind: [loan.id], type: QueryTypes.SELECT, transaction },
      );
      if (Number(held.n) > 0) {
        const runAt = new Date(Math.max(nowMs(), held.last?.getTime() ?? 0) + 5_000);
        await enqueueAfterCommit(
          'loan.settle',
          { loanId: String(loan.id) },
          { transaction, runAt },
        );
        return `settling: waiting for ${held.n} lock(s)`;
      }
      if (loan.boughtAmount === 0n) {
        await loanMachine.transition(loan, LoanStatus.Failed, {}, { transaction });
        await notifyPartner(
          {
            event: 'loan_failed',
            creditorNo: loan.creditorNo,
            dedupeKey: `loan_failed:${loan.id}`,
            data: { reason: 'nothing bought by the deadline' },
          },
          { transaction },
        );
        return LoanStatus.Failed;
      }
      if (loan.boughtAmount < loan.amount)
        await topUpBySuperInvestor(deps.config, loan, transaction);
      await loanMachine.transition(loan, LoanStatus.Full, {}, { transaction });
    }
    if (loan.status === LoanStatus.Full) {
      await startDisbursement(loan, transaction);
      return LoanStatus.Disbursing;
    }
    return `already ${loan.status}`;
  });
}

/** The super investor buys what is left (an order and an asset like anyone's, funded from its line). */
async function topUpBySuperInvestor(
  config: Readonly<Config>,
  loan: Loan,
  transaction: Transaction,
): Promise<void> {
  const rest = loan.amount - loan.boughtAmount;
  const userId = String(config.superInvestorUserId);
  const at = now();
  const order = await Order.create(
    {
      userId,
      loanId: loan.id,
      creditorNo: loan.creditorNo,
      amount: rest,
      payWith: 'wallet',
      status: OrderStatus.Paid,
      lockedAt: at,
      paidAt: at,
      endedAt: at,
      holdsLock: false,
    },
    { transaction },
  );
  await postTransaction(
    {
      kind: LedgerKind.SuperInvestorTopUp,
      idempotencyKey: `loan:${loan.id}:super-topup`,
      metadata: { loanId: String(loan.id), orderId: String(order.id) },
      entries: [
        { account: platformAccount(AccountType.SuperInvestor), amount: -rest },
        { account: investorAccount(userId, 'invested'), amount: rest, memo: 'principal' },
      ],
    },
    { transaction },
  );
  await Asset.create(
    {
      userId,
      loanId: loan.id,
      orderId: order.id,
      principal: rest,
      maxTradableAmount: rest,
      tradeCount: 0,
      status: AssetStatus.Holding,
    },
    { transaction },
  );
  await loan.update({ boughtAmount: loan.amount }, { transaction });
}

/**
 * full (or disburse_failed) → disbursing: a payout of amount − service fee to the borrower's card,
 * a new instruction per attempt. Returns the attempt number.
 */
async function startDisbursement(loan: Loan, transaction: Transaction): Promise<number> {
  const attempt =
    1 +
    (await PaymentInstruction.count({
      where: { purpose: 'disbursement', refId: loan.id },
      transaction,
    }));
  await createInstruction(
    {
      kind: 'payout',
      purpose: 'disbursement',
      refId: String(loan.id),
      userId: null,
      amount: loan.amount - loan.serviceFee,
      bankCardId: null,
      attempt,
    },
    { transaction },
  );
  await loanMachine.transition(loan, LoanStatus.Disbursing, {}, { transaction });
  return attempt;
}

/** Finance: disburse_failed → disbursing again, with a new payout instruction. */
export async function retryDisbursement(loanId: string): Promise<string> {
  return withTransaction(Loan.sequelize!, async (transaction) => {
    const loan = await Loan.findByPk(loanId, { transaction, lock: Transaction.LOCK.NO_KEY_UPDATE });
    if (!loan) throw new AppError('NOT_FOUND', `no loan ${loanId}`);
    if (loan.status !== LoanStatus.DisburseFailed)
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `loan ${loan.creditorNo} is ${loan.status}, not disburse_failed`,
      );
    const attempt = await startDisbursement(loan, transaction);
    return `disbursing (attempt ${attempt})`;
  });
}

/**
 * Fixes a disbursed loan's repayment plan (what the borrower owes, at yearRateLoan, from
 * `start`) and derives every holder's schedule from it (SPEC §3): each holder's principal is its
 * share of the plan's principal, period by period, the remainders given out so that every
 * period's holders sum exactly to the plan's; its interest is yearRateFin on what it still has
 * outstanding. Holders in ascending asset id; set-based inserts.
 */
async function fixRepaymentPlan(
  loan: Loan,
  start: string,
  transaction: Transaction,
): Promise<ScheduleRow[]> {
  const plan = buildPlan({
    principal: loan.amount,
    yearRate: loan.yearRateLoan,
    method: loan.repaymentMethod,
    term: loan.term,
    start,
  });
  await RepaymentPlan.bulkCreate(
    plan.map((p) => ({ ...p, loanId: loan.id, status: PeriodStatus.Pending })),
    { transaction },
  );
  const assets = await Asset.findAll({
    where: { loanId: loan.id, status: AssetStatus.Holding },
    order: [['id', 'ASC']],
    transaction,
  });
  const schedules = deriveHolderSchedules(
    plan,
    assets.map((a) => ({ key: a, principal: a.principal })),
    { yearRate: loan.yearRateFin, method: loan.repaymentMethod, term: loan.term },
  );
  await RepaymentSchedule.bulkCreate(
    schedules.flatMap(({ key: a, rows }) =>
      rows.map((r) => ({
        ...r,
        assetId: a.id,
        loanId: loan.id,
        userId: a.userId,
        status: PeriodStatus.Pending,
      })),
    ),
    { transaction },
  );
  await Asset.update(
    { interestStart: start },
    { where: { loanId: loan.id, status: AssetStatus.Holding }, transaction },
  );
  return plan;
}

/**
 * The disbursement payout's result (attempt `attempt` of the loan's payouts). Success: the
 * service fee goes to revenue, the borrower owes the whole amount, loanTime and dueTime are
 * set, the repayment plan is fixed and every holder's schedule derived from it, the loan repays,
 * the partner is told (item 16) with the plan. A success that follows a failure (the loan is
 * disburse_failed, or another attempt is under way) is applied the same way: the borrower has
 * the money. A success for a loan another payout already disbursed is a double payout: nothing
 * is applied and finance recovers it (`finance reconcile` lists it). Failure (confirmed by a
 * status query: payouts wait for it): disburse_failed, the partner is told, finance retries.
 */
export async function disbursementResolved(
  loanId: string,
  attempt: number,
  ok: boolean,
  failReason: string | undefined,
  transaction: Transaction,
): Promise<string> {
  const loan = (await Loan.findByPk(loanId, {
    transaction,
    lock: Transaction.LOCK.NO_KEY_UPDATE,
  }))!;
  if (!ok) {
    if (loan.status !== LoanStatus.Disbursing) return `loan already ${loan.status}`;
    await loanMachine.transition(loan, LoanStatus.DisburseFailed, {}, { transaction });
    await notifyPartner(
      {
        event: 'loan_disburse_failed',
        creditorNo: loan.creditorNo,
        dedupeKey: `loan_disburse_failed:${loan.id}:${attempt}`,
        data: { reason: failReason ?? 'payout failed', attempt },
      },
      { transaction },
    );
    return 'disburse_failed';
  }
  if (loan.status !== LoanStatus.Disbursing && loan.status !== LoanStatus.DisburseFailed)
    return `not applied: loan already ${loan.status} (double payout: recover it from the borrower)`;
  const fee = loan.serviceFee;
  await postTransaction(
    {
      kind: LedgerKind.Disbursement,
      idempotencyKey: `loan:${loan.id}:disbursed`,
      metadata: { loanId: String(loan.id), creditorNo: loan.creditorNo },
      entries: [
        {
          account: platformAccount(AccountType.BorrowerPayable),
          amount: -loan.amount,
          memo: 'principal',
        },
        { account: platformAccount(AccountType.Escrow), amount: loan.amount - fee },
        { account: platformAccount(AccountType.RevenueServiceFee), amount: fee, memo: 'fee' },
      ],
    },
    { transaction },
  );
  const loanTime = now();
  const plan = await fixRepaymentPlan(loan, jakartaDate(loanTime), transaction);
  const dueTime = endOfJakartaDay(plan[plan.length - 1].dueDate);
  await loanMachine.transition(loan, LoanStatus.Repaying, { loanTime, dueTime }, { transaction });
  await notifyPartner(
    {
      event: 'loan_disbursed',
      creditorNo: loan.creditorNo,
      dedupeKey: `loan_disbursed:${loan.id}`,
      data: {
        loanTime: loanTime.toISOString(),
        dueTime: dueTime.toISOString(),
        amount: idrToJson(loan.amount),
        serviceFee: idrToJson(fee),
        repaymentPlan: plan.map(planRowView),
      },
    },
    { transaction },
  );
  return 'repaying';
}
