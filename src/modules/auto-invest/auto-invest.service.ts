import { QueryTypes, Transaction } from 'sequelize';
import type { Config } from '../../../config';
import { now } from '../../lib/clock';
import { withTransaction } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { Dec, idrToJson, toIdr } from '../../lib/money';
import { BankCard } from '../banks/bank-card.model';
import { BankCardStatus } from '../banks/bank-card.states';
import { KycStatus } from '../kyc/kyc.states';
import { User } from '../users/user.model';
import { AutoInvestRule } from './auto-invest.model';
import type { RuleInput } from './auto-invest.schemas';
import { RuleStatus, ruleMachine, SKIP_MESSAGES, type SkipReason } from './auto-invest.states';

const rate = (r: string | null) => (r === null ? null : new Dec(r).toFixed(4));

/** The rule as the API shows it. */
export const ruleView = (r: AutoInvestRule) => ({
  enabled: r.status === RuleStatus.Enabled,
  amountPerLoan: idrToJson(r.amountPerLoan),
  minYearRate: rate(r.minYearRate),
  maxYearRate: rate(r.maxYearRate),
  repaymentMethods: r.repaymentMethods,
  maxTermDays: r.maxTermDays,
  riskLevels: r.riskLevels,
  reserveBalance: idrToJson(r.reserveBalance),
  maxTotalInvested: r.maxTotalInvested === null ? null : idrToJson(r.maxTotalInvested),
  enabledAt: r.enabledAt,
  lastServedAt: r.lastServedAt,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/** GET /api/v1/me/auto-invest: the investor's rule; 404 when there is none. */
export async function myRule(userId: string) {
  const rule = await AutoInvestRule.findByPk(userId);
  if (!rule) throw new AppError('NOT_FOUND', 'no auto-invest rule; PUT one');
  return ruleView(rule);
}

/**
 * PUT /api/v1/me/auto-invest: creates or replaces the investor's rule. `amountPerLoan` must
 * satisfy the purchase rules (≥ MIN_INVEST_AMOUNT, a multiple of INVEST_STEP_AMOUNT: 400 on the
 * field); enabling needs a verified KYC and a bound card (422 KYC_REQUIRED, BANK_CARD_REQUIRED).
 * Enabling a disabled rule stamps `enabledAt` (its place among rules never served); changing
 * the filters of an enabled rule keeps its place; the place of a rule served before is where its
 * last service put it, however often it is disabled and enabled again.
 */
export async function putRule(
  config: Pick<Config, 'minInvestAmount' | 'investStepAmount'>,
  userId: string,
  input: RuleInput,
) {
  const amount = BigInt(input.amountPerLoan);
  if (amount < config.minInvestAmount || amount % config.investStepAmount !== 0n)
    throw new AppError('VALIDATION_ERROR', 'invalid body', [
      {
        path: 'amountPerLoan',
        message: `amountPerLoan must be at least ${config.minInvestAmount} and a multiple of ${config.investStepAmount}`,
      },
    ]);
  const rule = await withTransaction(AutoInvestRule.sequelize!, async (transaction) => {
    // The investor's row first (the fixed lock order: user → its rule), so that a KYC or card
    // change and the allocation see one or the other.
    const user = await User.findByPk(userId, { transaction, lock: Transaction.LOCK.NO_KEY_UPDATE });
    if (input.enabled) {
      if (user?.kycStatus !== KycStatus.Verified)
        throw new AppError(
          'KYC_REQUIRED',
          'verify your identity (KYC) before enabling auto-invest',
        );
      const card = await BankCard.findOne({
        where: { userId, status: BankCardStatus.Active },
        transaction,
      });
      if (!card)
        throw new AppError('BANK_CARD_REQUIRED', 'bind a bank card before enabling auto-invest');
    }
    const to = input.enabled ? RuleStatus.Enabled : RuleStatus.Disabled;
    const fields = {
      amountPerLoan: amount,
      minYearRate: input.minYearRate ?? null,
      maxYearRate: input.maxYearRate ?? null,
      repaymentMethods: input.repaymentMethods,
      maxTermDays: input.maxTermDays ?? null,
      riskLevels: input.riskLevels ?? null,
      reserveBalance: BigInt(input.reserveBalance),
      maxTotalInvested:
        input.maxTotalInvested === undefined || input.maxTotalInvested === null
          ? null
          : BigInt(input.maxTotalInvested),
    };
    const existing = await AutoInvestRule.findByPk(userId, {
      transaction,
      lock: Transaction.LOCK.UPDATE,
    });
    if (!existing)
      return AutoInvestRule.create(
        { userId, status: to, enabledAt: input.enabled ? now() : null, ...fields },
        { transaction },
      );
    if (existing.status === to) return existing.update(fields, { transaction });
    return ruleMachine.transition(
      existing,
      to,
      { ...fields, ...(input.enabled ? { enabledAt: now() } : {}) },
      { transaction },
    );
  });
  return ruleView(rule);
}

/** DELETE /api/v1/me/auto-invest: the rule leaves the queue for good (its history stays). */
export async function deleteRule(userId: string): Promise<void> {
  await AutoInvestRule.destroy({ where: { userId } });
}

interface HistoryRow {
  id: string;
  creditor_no: string;
  amount: string;
  outcome: 'ordered' | 'skipped';
  reason: string | null;
  order_id: string | null;
  order_status: string | null;
  fail_code: string | null;
  fail_reason: string | null;
  created_at: Date;
}

/**
 * GET /api/v1/me/auto-invest/history: every loan the allocation offered the rule, newest
 * first: `invested` (the order was paid), `rejected` (the purchase rules refused the order at
 * its lock: the order's failCode), `pending` (the order is not decided yet) or `skipped` (the
 * rule could not buy: the skip reason); the amount is the rule's slice.
 */
export async function ruleHistory(userId: string, q: { page: number; pageSize: number }) {
  const sequelize = AutoInvestRule.sequelize!;
  const [{ total }] = await sequelize.query<{ total: string }>(
    'SELECT COUNT(*)::text AS total FROM auto_invest_history WHERE user_id = $1',
    { bind: [userId], type: QueryTypes.SELECT },
  );
  const rows = await sequelize.query<HistoryRow>(
    `SELECT h.id, l.creditor_no, h.amount::text AS amount, h.outcome, h.reason, h.order_id,
            o.status AS order_status, o.fail_code, o.fail_reason, h.created_at
       FROM auto_invest_history h
       JOIN loans l ON l.id = h.loan_id
       LEFT JOIN orders o ON o.id = h.order_id
      WHERE h.user_id = $1
      ORDER BY h.id DESC LIMIT $2 OFFSET $3`,
    { bind: [userId, q.pageSize, (q.page - 1) * q.pageSize], type: QueryTypes.SELECT },
  );
  return {
    items: rows.map((r) => {
      const base = {
        id: String(r.id),
        creditorNo: r.creditor_no,
        amount: idrToJson(toIdr(r.amount)),
        orderId: r.order_id === null ? null : String(r.order_id),
        createdAt: r.created_at,
      };
      if (r.outcome === 'skipped')
        return {
          ...base,
          outcome: 'skipped' as const,
          reason: r.reason,
          reasonMessage: SKIP_MESSAGES[r.reason as SkipReason] ?? null,
        };
      const outcome =
        r.order_status === 'paid'
          ? ('invested' as const)
          : r.order_status === 'pending'
            ? ('pending' as const)
            : ('rejected' as const);
      return {
        ...base,
        outcome,
        reason: outcome === 'rejected' ? r.fail_code : null,
        reasonMessage: outcome === 'rejected' ? r.fail_reason : null,
      };
    }),
    page: q.page,
    pageSize: q.pageSize,
    total: Number(total),
  };
}
