import { QueryTypes, Transaction, UniqueConstraintError } from 'sequelize';
import type { Queue } from 'bullmq';
import type { PiiCipher } from '../../lib/crypto';
import { now, nowMs, today } from '../../lib/clock';
import { withTransaction } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { idrToJson, toIdr } from '../../lib/money';
import { enqueueRecovery } from '../../queues/queues';
import { AccountType, investorAccount, platformAccount } from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import { postTransaction, type PostingEntry } from '../ledger/ledger.service';
import { Loan } from '../loans/loan.model';
import { LoanStatus, loanMachine } from '../loans/loan.states';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { notifyPartner } from '../partner/notifications.service';
import { createInstruction } from '../payments/instructions';
import { PeriodStatus, periodMachine } from '../schedules/schedule.states';
import { RepaymentPlan } from '../schedules/schedule.model';
import { shrinkHoldings } from '../transfers/holdings.service';
import { Repayment } from './repayment.model';
import { RepaymentHoldCode, RepaymentStatus, repaymentMachine } from './repayment.states';

/** POST /partner/v1/repayments body (seed item 14). */
export interface RepaymentReport {
  creditorNo: string;
  period: number;
  repaymentNo: string;
  principal: number;
  interest: number;
  lateFee: number;
  overdueServiceFee: number;
  paidAt: Date;
  payoff?: boolean;
}

export const repaymentView = (r: Repayment) => ({
  repaymentNo: r.repaymentNo,
  creditorNo: r.creditorNo,
  period: r.period,
  payoff: r.payoff,
  total: idrToJson(r.total),
  status: r.status,
  holdCode: r.holdCode,
  holdReason: r.holdReason,
});

/**
 * Records a reported repayment and asks the gateway to confirm the money in escrow (a custody
 * transfer instruction), in one transaction. Idempotent by repaymentNo: the same body again is
 * the same repayment, another body is 409.
 */
export async function receiveRepayment(
  cipher: PiiCipher,
  input: RepaymentReport,
): Promise<{ repayment: Repayment; created: boolean }> {
  const payoff = input.payoff === true;
  const bodyHash = cipher.lookupHash(
    JSON.stringify({ ...input, payoff, paidAt: input.paidAt.toISOString() }),
  );
  const existing = async () => {
    const r = await Repayment.findOne({ where: { repaymentNo: input.repaymentNo } });
    if (!r) return undefined;
    if (r.bodyHash !== bodyHash)
      throw new AppError(
        'CONFLICT',
        `repayment ${input.repaymentNo} was already reported with other figures`,
      );
    return { repayment: r, created: false };
  };
  const prior = await existing();
  if (prior) return prior;
  const loan = await Loan.findOne({ where: { creditorNo: input.creditorNo } });
  if (!loan)
    throw new AppError('NOT_FOUND', `no loan ${input.creditorNo}`, [
      { path: 'creditorNo', message: 'no such loan' },
    ]);
  if (![LoanStatus.Repaying, LoanStatus.Overdue].includes(loan.status)) {
    throw new AppError(
      'CONFLICT',
      `loan ${input.creditorNo} is ${loan.status}: it takes no repayment`,
    );
  }
  const total =
    BigInt(input.principal) +
    BigInt(input.interest) +
    BigInt(input.lateFee) +
    BigInt(input.overdueServiceFee);
  if (total <= 0n)
    throw new AppError('VALIDATION_ERROR', 'a repayment moves some money', [
      { path: 'principal', message: 'all amounts are zero' },
    ]);
  try {
    return await withTransaction(Repayment.sequelize!, async (transaction) => {
      const repayment = await Repayment.create(
        {
          repaymentNo: input.repaymentNo,
          loanId: loan.id,
          creditorNo: loan.creditorNo,
          period: input.period,
          principal: BigInt(input.principal),
          interest: BigInt(input.interest),
          lateFee: BigInt(input.lateFee),
          overdueServiceFee: BigInt(input.overdueServiceFee),
          total,
          paidAt: input.paidAt,
          payoff,
          bodyHash,
          status: RepaymentStatus.Reported,
        },
        { transaction },
      );
      await createInstruction(
        {
          kind: 'custody_transfer',
          purpose: 'repayment',
          refId: String(repayment.id),
          userId: null,
          amount: total,
          bankCardId: null,
        },
        { transaction },
      );
      return { repayment, created: true };
    });
  } catch (err) {
    if (err instanceof UniqueConstraintError) return (await existing())!;
    throw err;
  }
}

/**
 * The custody transfer's result: the money is in escrow (then cleared by a job) or it is not
 * (failed, the partner is told). A success after a failure is applied like any success: the
 * money arrived, so it is cleared — never left aside.
 */
export async function repaymentArrived(
  repaymentId: string,
  ok: boolean,
  failReason: string | undefined,
  transaction: Transaction,
): Promise<string> {
  const r = (await Repayment.findByPk(repaymentId, {
    transaction,
    lock: Transaction.LOCK.NO_KEY_UPDATE,
  }))!;
  if (r.status !== RepaymentStatus.Reported && !(ok && r.status === RepaymentStatus.Failed))
    return `repayment already ${r.status}`;
  if (!ok) {
    const reason = `the money did not arrive in escrow: ${failReason ?? 'gateway failure'}`;
    await repaymentMachine.transition(
      r,
      RepaymentStatus.Failed,
      { holdReason: reason },
      { transaction },
    );
    await notifyPartner(
      {
        event: 'repayment_failed',
        creditorNo: r.creditorNo,
        dedupeKey: `repayment_failed:${r.id}`,
        data: { repaymentNo: r.repaymentNo, period: r.period, reason },
      },
      { transaction },
    );
    return 'repayment failed';
  }
  const late = r.status === RepaymentStatus.Failed;
  await postTransaction(
    {
      kind: LedgerKind.RepaymentReceived,
      idempotencyKey: `repayment:${r.id}:received`,
      metadata: { repaymentNo: r.repaymentNo, creditorNo: r.creditorNo, period: r.period },
      entries: [
        { account: platformAccount(AccountType.Escrow), amount: -r.total },
        { account: platformAccount(AccountType.GatewayClearing), amount: r.total },
      ],
    },
    { transaction },
  );
  await repaymentMachine.transition(
    r,
    RepaymentStatus.Arrived,
    { holdReason: null },
    { transaction },
  );
  await enqueueAfterCommit('repayment.clear', { repaymentId: String(r.id) }, { transaction });
  return late ? 'repayment arrived after its failure' : 'repayment arrived';
}

/** What one clearing pays one asset: its principal (all periods settled) and the period's interest. */
interface AssetShare {
  assetId: string;
  userId: string;
  principal: bigint;
  interest: bigint;
}

/**
 * The repayment.clear job (SPEC §3, seed item 15), ONE database transaction (repayment → loan →
 * plan → holders' rows → assets → notes): a repayment clears when its principal equals the
 * plan's principal for the period (for a payoff: everything outstanding) and its interest covers
 * the holders' interest for the period. Then, in ONE ledger transaction, every holder's row of
 * the period is paid (invested → available, interest to available), the rest of the interest
 * is spread, late fees are revenue; rows and plan are marked paid; every asset shrinks by the
 * principal it got back (notes that no longer fit close); after the last period — or a payoff,
 * which settles every remaining row with that period's interest — the loan is repaid; the
 * partner is told. Anything that does not match is held with a code and a reason, never
 * half-applied; a repayment that waited for an earlier period is cleared once that one is.
 */
export async function clearRepayment(
  repaymentId: string,
  opts: { fromHeld?: boolean } = {},
): Promise<string> {
  return withTransaction(Repayment.sequelize!, async (transaction) => {
    const r = await Repayment.findByPk(repaymentId, {
      transaction,
      lock: Transaction.LOCK.NO_KEY_UPDATE,
    });
    if (!r)
      throw new AppError('NOT_FOUND', `no repayment ${repaymentId}`, [], { retryable: false });
    const ready =
      r.status === RepaymentStatus.Arrived ||
      (r.status === RepaymentStatus.Held &&
        (opts.fromHeld || r.holdCode === RepaymentHoldCode.EarlierPeriodUnpaid));
    if (!ready) return `repayment ${r.status}`;
    const loan = (await Loan.findByPk(r.loanId, {
      transaction,
      lock: Transaction.LOCK.NO_KEY_UPDATE,
    }))!;
    const hold = async (code: RepaymentHoldCode, reason: string) => {
      await repaymentMachine.transition(
        r,
        RepaymentStatus.Held,
        { holdCode: code, holdReason: `schedule: ${reason}` },
        { transaction },
      );
      await notifyPartner(
        {
          event: 'repayment_held',
          creditorNo: loan.creditorNo,
          dedupeKey: `repayment_held:${r.id}:${code}`,
          data: { repaymentNo: r.repaymentNo, period: r.period, code, reason },
        },
        { transaction },
      );
      return `held: ${reason}`;
    };
    if (![LoanStatus.Repaying, LoanStatus.Overdue].includes(loan.status))
      return hold(RepaymentHoldCode.LoanNotRepaying, `the loan is ${loan.status}`);
    const plan = await RepaymentPlan.findAll({
      where: { loanId: loan.id, status: 'pending' },
      order: [['period', 'ASC']],
      transaction,
      lock: Transaction.LOCK.NO_KEY_UPDATE,
    });
    const first = plan[0];
    if (!first || r.period < first.period || r.period > plan[plan.length - 1].period)
      return hold(RepaymentHoldCode.NoPendingPeriod, `no pending period ${r.period} in the plan`);
    if (r.period > first.period)
      return hold(
        RepaymentHoldCode.EarlierPeriodUnpaid,
        `an earlier period than ${r.period} is not repaid yet`,
      );
    const settled = r.payoff ? plan : [first];
    const owed = settled.reduce((s, p) => s + p.principal, 0n);
    if (r.principal !== owed)
      return r.payoff
        ? hold(
            RepaymentHoldCode.PayoffMismatch,
            `a payoff's principal ${r.principal} differs from the outstanding ${owed}`,
          )
        : hold(
            RepaymentHoldCode.PrincipalMismatch,
            `principal ${r.principal} differs from the plan's ${owed} for period ${r.period}`,
          );
    // Raw rows, not model instances: a loan may have tens of thousands of holders.
    const rows = (
      await Repayment.sequelize!.query<{
        id: string;
        asset_id: string;
        user_id: string;
        period: number;
        principal: string;
        interest: string;
      }>(
        `SELECT id, asset_id, user_id, period, principal, interest FROM repayment_schedules
          WHERE loan_id = $1 AND status = 'pending' AND period >= $2
          ORDER BY id FOR NO KEY UPDATE`,
        { bind: [loan.id, r.period], type: QueryTypes.SELECT, transaction },
      )
    ).map((x) => ({
      id: x.id,
      assetId: x.asset_id,
      userId: x.user_id,
      period: x.period,
      principal: toIdr(x.principal),
      interest: toIdr(x.interest),
    }));
    const paid = rows.filter((x) => r.payoff || x.period === r.period);
    const rowsPrincipal = paid.reduce((s, x) => s + x.principal, 0n);
    if (rowsPrincipal !== owed)
      throw new AppError(
        'INTERNAL_ERROR',
        `loan ${loan.creditorNo}: holders' rows ${rowsPrincipal} differ from the plan's ${owed}`,
        [],
        { retryable: false },
      );
    const shares = new Map<string, AssetShare>();
    for (const x of paid) {
      const s = shares.get(String(x.assetId)) ?? {
        assetId: String(x.assetId),
        userId: String(x.userId),
        principal: 0n,
        interest: 0n,
      };
      s.principal += x.principal;
      if (x.period === r.period) s.interest += x.interest;
      shares.set(s.assetId, s);
    }
    const interest = [...shares.values()].reduce((s, x) => s + x.interest, 0n);
    if (interest > r.interest)
      return hold(
        r.payoff ? RepaymentHoldCode.PayoffMismatch : RepaymentHoldCode.InterestShort,
        `interest ${r.interest} is below the holders' ${interest}`,
      );

    const entries: PostingEntry[] = [
      { account: platformAccount(AccountType.GatewayClearing), amount: -r.total },
      {
        account: platformAccount(AccountType.BorrowerPayable),
        amount: r.principal,
        memo: 'principal',
      },
      {
        account: platformAccount(AccountType.RevenueSpread),
        amount: r.interest - interest,
        memo: 'spread',
      },
      {
        account: platformAccount(AccountType.RevenueLateFee),
        amount: r.lateFee + r.overdueServiceFee,
        memo: 'late_fee',
      },
    ];
    for (const s of shares.values()) {
      entries.push(
        { account: investorAccount(s.userId, 'invested'), amount: -s.principal, memo: 'principal' },
        { account: investorAccount(s.userId, 'available'), amount: s.principal, memo: 'principal' },
        { account: investorAccount(s.userId, 'available'), amount: s.interest, memo: 'interest' },
      );
    }
    await postTransaction(
      {
        kind: LedgerKind.RepaymentClearing,
        idempotencyKey: `repayment:${r.id}:cleared`,
        metadata: {
          repaymentNo: r.repaymentNo,
          creditorNo: r.creditorNo,
          period: r.period,
          payoff: r.payoff,
          holders: shares.size,
        },
        entries,
      },
      { transaction },
    );
    const at = now();
    // A payoff settles the later periods' rows without their interest: it was never earned.
    await Repayment.sequelize!.query(
      `UPDATE repayment_schedules SET status = 'paid', paid_at = $3, repayment_id = $1,
              interest = CASE WHEN period > $4 THEN 0 ELSE interest END, updated_at = $3
        WHERE id = ANY($2::bigint[]) AND status = ANY($5::text[])`,
      {
        bind: [
          r.id,
          paid.map((x) => x.id),
          at,
          r.period,
          periodMachine.sourcesOf(PeriodStatus.Paid),
        ],
        transaction,
      },
    );
    await RepaymentPlan.update(
      { status: PeriodStatus.Paid, paidAt: at, repaymentId: r.id },
      {
        where: { id: settled.map((p) => p.id), ...periodMachine.movableTo(PeriodStatus.Paid) },
        transaction,
      },
    );
    await shrinkHoldings(
      loan.id,
      [...shares.values()].map((s) => ({ assetId: s.assetId, principal: s.principal })),
      { transaction },
    );
    await repaymentMachine.transition(
      r,
      RepaymentStatus.Cleared,
      { holdCode: null, holdReason: null, clearedAt: at },
      { transaction },
    );
    await loan.update(
      {
        interest: loan.interest + r.interest,
        lateFee: loan.lateFee + r.lateFee,
        overdueServiceFee: loan.overdueServiceFee + r.overdueServiceFee,
      },
      { transaction },
    );
    await notifyPartner(
      {
        event: 'repayment_cleared',
        creditorNo: loan.creditorNo,
        dedupeKey: `repayment_cleared:${r.id}`,
        data: { repaymentNo: r.repaymentNo, period: r.period, payoff: r.payoff },
      },
      { transaction },
    );
    // A repayment of a later period that arrived first waits for this one: it may clear now.
    const waiting = await Repayment.findAll({
      where: {
        loanId: loan.id,
        status: RepaymentStatus.Held,
        holdCode: RepaymentHoldCode.EarlierPeriodUnpaid,
      },
      transaction,
    });
    for (const w of waiting)
      await enqueueAfterCommit('repayment.clear', { repaymentId: String(w.id) }, { transaction });
    if (settled.length === plan.length) {
      await loanMachine.transition(
        loan,
        LoanStatus.Repaid,
        { repaidAt: r.paidAt },
        { transaction },
      );
      await notifyPartner(
        {
          event: 'loan_repaid',
          creditorNo: loan.creditorNo,
          dedupeKey: `loan_repaid:${loan.id}`,
          data: { repaidAt: r.paidAt.toISOString(), payoff: r.payoff },
        },
        { transaction },
      );
      return r.payoff ? 'cleared; paid off; loan repaid' : 'cleared; loan repaid';
    }
    if (loan.status === LoanStatus.Overdue) {
      const stillLate = plan.some((p) => p.period > r.period && p.dueDate < today());
      if (!stillLate) {
        await loanMachine.transition(loan, LoanStatus.Repaying, {}, { transaction });
      }
    }
    return 'cleared';
  });
}

/**
 * Finance: sends a held repayment's money back to the partner (a custody transfer out of
 * escrow), for a report that cannot be cleared and is replaced by a corrected one. On success
 * the money leaves escrow and the partner is told; on failure it is held again.
 */
export async function returnRepayment(repaymentId: string): Promise<string> {
  return withTransaction(Repayment.sequelize!, async (transaction) => {
    const r = await Repayment.findByPk(repaymentId, {
      transaction,
      lock: Transaction.LOCK.NO_KEY_UPDATE,
    });
    if (!r) throw new AppError('NOT_FOUND', `no repayment ${repaymentId}`);
    if (r.status !== RepaymentStatus.Held)
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `repayment ${r.repaymentNo} is ${r.status}, not held`,
      );
    const attempt =
      1 +
      (await RepaymentPlan.sequelize!.query<{ n: string }>(
        `SELECT COUNT(*)::text AS n FROM payment_instructions WHERE purpose = 'repayment_return' AND ref_id = $1`,
        { bind: [r.id], type: QueryTypes.SELECT, transaction },
      ).then(([x]) => Number(x.n)));
    await createInstruction(
      {
        kind: 'custody_transfer',
        purpose: 'repayment_return',
        refId: String(r.id),
        userId: null,
        amount: r.total,
        bankCardId: null,
        attempt,
      },
      { transaction },
    );
    await repaymentMachine.transition(r, RepaymentStatus.Returning, {}, { transaction });
    return `returning ${r.total} to the partner (attempt ${attempt})`;
  });
}

/** The return transfer's result: the money left escrow (returned), or the repayment is held again. */
export async function repaymentReturned(
  repaymentId: string,
  ok: boolean,
  failReason: string | undefined,
  transaction: Transaction,
): Promise<string> {
  const r = (await Repayment.findByPk(repaymentId, {
    transaction,
    lock: Transaction.LOCK.NO_KEY_UPDATE,
  }))!;
  if (r.status !== RepaymentStatus.Returning) return `repayment already ${r.status}`;
  if (!ok) {
    await repaymentMachine.transition(
      r,
      RepaymentStatus.Held,
      { holdReason: `${r.holdReason ?? ''} (return failed: ${failReason ?? 'gateway failure'})` },
      { transaction },
    );
    return 'return failed; held again';
  }
  await postTransaction(
    {
      kind: LedgerKind.RepaymentReturned,
      idempotencyKey: `repayment:${r.id}:returned`,
      metadata: { repaymentNo: r.repaymentNo, creditorNo: r.creditorNo },
      entries: [
        { account: platformAccount(AccountType.GatewayClearing), amount: -r.total },
        { account: platformAccount(AccountType.Escrow), amount: r.total },
      ],
    },
    { transaction },
  );
  await repaymentMachine.transition(r, RepaymentStatus.Returned, {}, { transaction });
  await notifyPartner(
    {
      event: 'repayment_returned',
      creditorNo: r.creditorNo,
      dedupeKey: `repayment_returned:${r.id}`,
      data: { repaymentNo: r.repaymentNo, period: r.period, total: idrToJson(r.total) },
    },
    { transaction },
  );
  return 'repayment returned to the partner';
}

/** The overdue sweeper: repaying loans with a period of the plan past due and unpaid become overdue. */
export async function markOverdueLoans(day: string = today()): Promise<number> {
  const from = loanMachine.sourcesOf(LoanStatus.Overdue);
  const rows = await Loan.sequelize!.query<{ id: string }>(
    `UPDATE loans l SET status = 'overdue', updated_at = $3
      WHERE l.status = ANY($1::text[])
        AND EXISTS (SELECT 1 FROM repayment_plans p WHERE p.loan_id = l.id AND p.status = 'pending' AND p.due_date < $2::date)
      RETURNING l.id`,
    { bind: [from, day, now()], type: QueryTypes.SELECT },
  );
  return rows.length;
}

/**
 * Recovery: repayments that arrived and were never cleared, and held ones waiting for an
 * earlier period that is now repaid, get a clear job again (their jobs were lost).
 */
export async function sweepRepayments(
  queues: Map<string, Queue>,
  graceSeconds: number,
): Promise<number> {
  const rows = await Repayment.sequelize!.query<{ id: string }>(
    `SELECT r.id FROM repayments r
      WHERE r.updated_at < $1
        AND (r.status = 'arrived'
             OR (r.status = 'held' AND r.hold_code = 'EARLIER_PERIOD_UNPAID'
                 AND NOT EXISTS (SELECT 1 FROM repayment_plans p
                                  WHERE p.loan_id = r.loan_id AND p.status = 'pending' AND p.period < r.period)))
      ORDER BY r.id LIMIT 500`,
    { bind: [new Date(nowMs() - graceSeconds * 1000)], type: QueryTypes.SELECT },
  );
  return enqueueRecovery(
    queues,
    'repayment.clear',
    'recover-clear',
    rows.map((r) => ({ key: String(r.id), payload: { repaymentId: String(r.id) } })),
  );
}
