import { QueryTypes } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import { idrToJson, toIdr } from '../../lib/money';
import { PLATFORM_ACCOUNT_TYPES } from '../ledger/ledger.accounts';
import { checkLedger } from '../ledger/ledger.service';

/** One thing that does not add up between the ledger, the instructions and the schedules. */
export interface Mismatch {
  check: string;
  ref: string;
  detail: string;
}

const q = <T extends object>(sequelize: Sequelize, sql: string) =>
  sequelize.query<T>(sql, { type: QueryTypes.SELECT });

/**
 * Reconciles ledger ↔ instructions ↔ orders ↔ schedules and lists every mismatch:
 * the ledger's own check; paid orders without an asset; succeeded order collections whose
 * order did not end paid or refunded; instructions without a result for a day; loans whose
 * bought amount differs from their paid orders; disbursed loans whose schedules do not sum to
 * the amount; investors whose `invested` balance differs from what their assets and unpaid
 * schedules say.
 */
export async function reconcile(sequelize: Sequelize): Promise<Mismatch[]> {
  const out: Mismatch[] = [];
  const ledger = await checkLedger();
  for (const m of ledger.mismatches)
    out.push({
      check: 'ledger.cached_balance',
      ref: m.code,
      detail: `cached ${m.cached}, entries ${m.computed}`,
    });
  for (const u of ledger.unbalancedTransactions)
    out.push({ check: 'ledger.unbalanced', ref: u.idempotencyKey, detail: `sums to ${u.sum}` });
  if (ledger.trialBalance !== 0n)
    out.push({
      check: 'ledger.trial_balance',
      ref: 'all',
      detail: `sums to ${ledger.trialBalance}`,
    });

  for (const r of await q<{ id: string }>(
    sequelize,
    `SELECT o.id FROM orders o LEFT JOIN assets a ON a.order_id = o.id WHERE o.status = 'paid' AND a.id IS NULL`,
  )) {
    out.push({
      check: 'order.paid_without_asset',
      ref: `order ${r.id}`,
      detail: 'paid but no asset',
    });
  }
  for (const r of await q<{ id: string; order_id: string; status: string }>(
    sequelize,
    `SELECT i.id, o.id AS order_id, o.status FROM payment_instructions i JOIN orders o ON o.id = i.ref_id
      WHERE i.purpose = 'order' AND i.status = 'succeeded' AND o.status NOT IN ('paid', 'refunding', 'refunded')`,
  )) {
    out.push({
      check: 'instruction.order_not_settled',
      ref: `instruction ${r.id}`,
      detail: `collected, but order ${r.order_id} is ${r.status}`,
    });
  }
  for (const r of await q<{ id: string; purpose: string; status: string }>(
    sequelize,
    `SELECT id, purpose, status FROM payment_instructions WHERE status IN ('created', 'submitted', 'unknown') AND created_at < now() - interval '1 day'`,
  )) {
    out.push({
      check: 'instruction.unresolved',
      ref: `instruction ${r.id}`,
      detail: `${r.purpose} still ${r.status} after a day`,
    });
  }
  for (const r of await q<{ creditor_no: string; bought: string; paid: string }>(
    sequelize,
    `SELECT l.creditor_no, l.bought_amount::text AS bought, COALESCE(SUM(o.amount), 0)::text AS paid
       FROM loans l LEFT JOIN orders o ON o.loan_id = l.id AND o.status = 'paid'
      GROUP BY l.id HAVING l.bought_amount <> COALESCE(SUM(o.amount), 0)`,
  )) {
    out.push({
      check: 'loan.bought_vs_orders',
      ref: r.creditor_no,
      detail: `bought ${r.bought}, paid orders ${r.paid}`,
    });
  }
  for (const r of await q<{ creditor_no: string; amount: string; scheduled: string }>(
    sequelize,
    `SELECT l.creditor_no, l.amount::text AS amount, COALESCE(SUM(s.principal), 0)::text AS scheduled
       FROM loans l LEFT JOIN repayment_schedules s ON s.loan_id = l.id
      WHERE l.status IN ('repaying', 'overdue', 'repaid')
      GROUP BY l.id HAVING l.amount <> COALESCE(SUM(s.principal), 0)`,
  )) {
    out.push({
      check: 'loan.schedule_principal',
      ref: r.creditor_no,
      detail: `amount ${r.amount}, schedules ${r.scheduled}`,
    });
  }
  for (const r of await q<{ user_id: string; invested: string; expected: string }>(
    sequelize,
    `WITH expected AS (
       SELECT a.user_id,
              SUM(CASE WHEN l.status IN ('repaying', 'overdue', 'repaid')
                       THEN (SELECT COALESCE(SUM(s.principal), 0) FROM repayment_schedules s WHERE s.asset_id = a.id AND s.status = 'pending')
                       ELSE a.principal END) AS total
         FROM assets a JOIN loans l ON l.id = a.loan_id GROUP BY a.user_id)
     SELECT e.user_id, COALESCE(ac.balance, 0)::text AS invested, e.total::text AS expected
       FROM expected e LEFT JOIN accounts ac ON ac.owner_user_id = e.user_id AND ac.type = 'investor_invested'
      WHERE COALESCE(ac.balance, 0) <> e.total`,
  )) {
    out.push({
      check: 'investor.invested_vs_assets',
      ref: `user ${r.user_id}`,
      detail: `invested ${r.invested}, assets and schedules ${r.expected}`,
    });
  }
  return out;
}

/** The admin reconciliation summary: platform account totals, instructions by state, what waits for finance. */
export async function reconciliationSummary(sequelize: Sequelize) {
  const accounts = await q<{ code: string; balance: string }>(
    sequelize,
    `SELECT code, balance::text FROM accounts WHERE owner_user_id IS NULL ORDER BY code`,
  );
  const instructions = await q<{ purpose: string; status: string; n: string; amount: string }>(
    sequelize,
    `SELECT purpose, status, COUNT(*)::text AS n, SUM(amount)::text AS amount FROM payment_instructions GROUP BY purpose, status ORDER BY purpose, status`,
  );
  const [waiting] = await q<{ held: string; notifications: string; disburse_failed: string }>(
    sequelize,
    `SELECT (SELECT COUNT(*) FROM repayments WHERE status = 'held')::text AS held,
            (SELECT COUNT(*) FROM partner_notifications WHERE status = 'pending')::text AS notifications,
            (SELECT COUNT(*) FROM loans WHERE status = 'disburse_failed')::text AS disburse_failed`,
  );
  const investor = await q<{ type: string; balance: string }>(
    sequelize,
    `SELECT type, COALESCE(SUM(balance), 0)::text AS balance FROM accounts WHERE owner_user_id IS NOT NULL GROUP BY type ORDER BY type`,
  );
  const platform = Object.fromEntries(PLATFORM_ACCOUNT_TYPES.map((t) => [t, 0 as number | string]));
  for (const a of accounts) platform[a.code] = idrToJson(toIdr(a.balance));
  return {
    platformAccounts: platform,
    investorAccounts: Object.fromEntries(
      investor.map((r) => [r.type, idrToJson(toIdr(r.balance))]),
    ),
    instructions: instructions.map((i) => ({
      purpose: i.purpose,
      status: i.status,
      count: Number(i.n),
      amount: idrToJson(toIdr(i.amount)),
    })),
    waitingForFinance: {
      heldRepayments: Number(waiting.held),
      pendingPartnerNotifications: Number(waiting.notifications),
      disburseFailedLoans: Number(waiting.disburse_failed),
    },
  };
}
