import { Op, QueryTypes, Transaction, UniqueConstraintError } from 'sequelize';
import type { PiiCipher } from '../../lib/crypto';
import { withTransaction } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { idrToJson } from '../../lib/money';
import { AccountType, investorAccount, platformAccount } from '../ledger/ledger.accounts';
import { LedgerKind } from '../ledger/ledger.kinds';
import { postTransaction, type PostingEntry } from '../ledger/ledger.service';
import { Loan } from '../loans/loan.model';
import { LoanStatus, loanMachine } from '../loans/loan.states';
import { Asset } from '../orders/order.model';
import { enqueueAfterCommit } from '../outbox/outbox.service';
import { notifyPartner } from '../partner/notifications.service';
import { createInstruction } from '../payments/instructions';
import { RepaymentSchedule } from '../schedules/schedule.model';
import { jakartaDate } from '../schedules/schedule';
import { Repayment } from './repayment.model';
import { RepaymentStatus, repaymentMachine } from './repayment.states';

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
}

export const repaymentView = (r: Repayment) => ({
  repaymentNo: r.repaymentNo,
  creditorNo: r.creditorNo,
  period: r.period,
  total: idrToJson(r.total),
  status: r.status,
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
  const bodyHash = cipher.lookupHash(
    JSON.stringify({ ...input, paidAt: input.paidAt.toISOString() }),
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

/** The custody transfer's result: the money is in escrow (then cleared by a job) or it is not (held). */
export async function repaymentArrived(
  repaymentId: string,
  ok: boolean,
  failReason: string | undefined,
  transaction: Transaction,
): Promise<string> {
  const r = (await Repayment.findByPk(repaymentId, {
    transaction,
    lock: Transaction.LOCK.UPDATE,
  }))!;
  if (r.status !== RepaymentStatus.Reported) return `repayment already ${r.status}`;
  if (!ok) {
    repaymentMachine.assert(r.status, RepaymentStatus.Held);
    await r.update(
      {
        status: RepaymentStatus.Held,
        holdReason: `the money did not arrive in escrow: ${failReason ?? 'gateway failure'}`,
      },
      { transaction },
    );
    return 'repayment held';
  }
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
  repaymentMachine.assert(r.status, RepaymentStatus.Arrived);
  await r.update({ status: RepaymentStatus.Arrived }, { transaction });
  await enqueueAfterCommit('repayment.clear', { repaymentId: String(r.id) }, { transaction });
  return 'repayment arrived';
}

/**
 * The repayment.clear job (SPEC §3, seed item 15): splits one arrived repayment in ONE ledger
 * transaction — every holder of the loan gets the principal and interest of their schedule row
 * for the period (invested → available, interest to available), the rest of the interest is
 * spread, late and overdue-service fees are late-fee revenue — marks the rows paid, moves the
 * loan to repaid after its last period, and tells the partner. A repayment that does not match
 * the schedule is held with the reason, never half-applied.
 */
export async function clearRepayment(
  repaymentId: string,
  opts: { fromHeld?: boolean } = {},
): Promise<string> {
  return withTransaction(Repayment.sequelize!, async (transaction) => {
    const r = await Repayment.findByPk(repaymentId, { transaction, lock: Transaction.LOCK.UPDATE });
    if (!r)
      throw new AppError('NOT_FOUND', `no repayment ${repaymentId}`, [], { retryable: false });
    const ready =
      r.status === RepaymentStatus.Arrived ||
      (opts.fromHeld && r.status === RepaymentStatus.Held && r.holdReason?.startsWith('schedule:'));
    if (!ready) return `repayment ${r.status}`;
    const loan = (await Loan.findByPk(r.loanId, { transaction, lock: Transaction.LOCK.UPDATE }))!;
    const hold = async (reason: string) => {
      if (r.status !== RepaymentStatus.Held)
        repaymentMachine.assert(r.status, RepaymentStatus.Held);
      await r.update(
        { status: RepaymentStatus.Held, holdReason: `schedule: ${reason}` },
        { transaction },
      );
      return `held: ${reason}`;
    };
    if (![LoanStatus.Repaying, LoanStatus.Overdue].includes(loan.status))
      return hold(`the loan is ${loan.status}`);
    const earlier = await RepaymentSchedule.count({
      where: { loanId: loan.id, period: { [Op.lt]: r.period }, status: 'pending' },
      transaction,
    });
    if (earlier > 0) return hold(`an earlier period than ${r.period} is not repaid yet`);
    const rows = await RepaymentSchedule.findAll({
      where: { loanId: loan.id, period: r.period, status: 'pending' },
      transaction,
      lock: Transaction.LOCK.UPDATE,
      order: [['id', 'ASC']],
    });
    if (rows.length === 0) return hold(`no pending schedule for period ${r.period}`);
    const principal = rows.reduce((s, x) => s + x.principal, 0n);
    const interest = rows.reduce((s, x) => s + x.interest, 0n);
    if (principal !== r.principal)
      return hold(`principal ${r.principal} differs from the holders' ${principal}`);
    if (interest > r.interest)
      return hold(`interest ${r.interest} is below the holders' ${interest}`);

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
    for (const row of rows) {
      entries.push(
        {
          account: investorAccount(row.userId, 'invested'),
          amount: -row.principal,
          memo: 'principal',
        },
        {
          account: investorAccount(row.userId, 'available'),
          amount: row.principal,
          memo: 'principal',
        },
        {
          account: investorAccount(row.userId, 'available'),
          amount: row.interest,
          memo: 'interest',
        },
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
          holders: rows.length,
        },
        entries,
      },
      { transaction },
    );
    await Repayment.sequelize!.query(
      `UPDATE repayment_schedules SET status = 'paid', paid_at = now(), repayment_id = $1, updated_at = now() WHERE id = ANY($2::bigint[])`,
      { bind: [r.id, rows.map((x) => x.id)], transaction },
    );
    repaymentMachine.assert(r.status, RepaymentStatus.Cleared);
    await r.update(
      { status: RepaymentStatus.Cleared, holdReason: null, clearedAt: new Date() },
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
    const pending = await RepaymentSchedule.count({
      where: { loanId: loan.id, status: 'pending' },
      transaction,
    });
    await notifyPartner(
      {
        event: 'repayment_cleared',
        creditorNo: loan.creditorNo,
        dedupeKey: `repayment_cleared:${r.id}`,
        data: { repaymentNo: r.repaymentNo, period: r.period },
      },
      { transaction },
    );
    if (pending === 0) {
      loanMachine.assert(loan.status, LoanStatus.Repaid);
      await loan.update({ status: LoanStatus.Repaid, repaidAt: r.paidAt }, { transaction });
      await Asset.update(
        { status: 'repaid' },
        { where: { loanId: loan.id, status: 'holding' }, transaction },
      );
      await notifyPartner(
        {
          event: 'loan_repaid',
          creditorNo: loan.creditorNo,
          dedupeKey: `loan_repaid:${loan.id}`,
          data: { repaidAt: r.paidAt.toISOString() },
        },
        { transaction },
      );
      return 'cleared; loan repaid';
    }
    if (loan.status === LoanStatus.Overdue) {
      const stillLate = await RepaymentSchedule.count({
        where: {
          loanId: loan.id,
          status: 'pending',
          dueDate: { [Op.lt]: jakartaDate(new Date()) },
        },
        transaction,
      });
      if (stillLate === 0) {
        loanMachine.assert(loan.status, LoanStatus.Repaying);
        await loan.update({ status: LoanStatus.Repaying }, { transaction });
      }
    }
    return 'cleared';
  });
}

/** The overdue sweeper: repaying loans with a period past due and unpaid become overdue. */
export async function markOverdueLoans(today: string = jakartaDate(new Date())): Promise<number> {
  const from = loanMachine.sourcesOf(LoanStatus.Overdue);
  const rows = await Loan.sequelize!.query<{ id: string }>(
    `UPDATE loans l SET status = 'overdue', updated_at = now()
      WHERE l.status = ANY($1::text[])
        AND EXISTS (SELECT 1 FROM repayment_schedules s WHERE s.loan_id = l.id AND s.status = 'pending' AND s.due_date < $2::date)
      RETURNING l.id`,
    { bind: [from, today], type: QueryTypes.SELECT },
  );
  return rows.length;
}
