import { QueryTypes, type Transaction } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import { nowMs } from '../../lib/clock';
import { idrToJson, toIdr } from '../../lib/money';
import { INVESTOR_ACCOUNT_TYPES, PLATFORM_ACCOUNT_TYPES } from '../ledger/ledger.accounts';
import { ACCOUNT_BALANCES_SQL, checkLedger } from '../ledger/ledger.service';

/** One thing that does not add up, or waits for finance, with what finance should do. */
export interface Mismatch {
  check: string;
  ref: string;
  detail: string;
  action: string;
}

/** What reconcile looks at: everything, or the given loans and the investors who hold them. */
export interface ReconcileScope {
  /** creditorNos; none → the whole database. */
  loans?: string[];
}

type Row = Record<string, string>;

/**
 * Per investor: the `invested` balance against the sum of the investor's assets' amounts (what
 * they still hold), for every investor or the given ones. Shared by reconcile and the audit.
 */
export async function investedMismatches(
  sequelize: Sequelize,
  userIds: string[] | null = null,
  transaction?: Transaction,
): Promise<{ userId: string; invested: bigint; assets: bigint }[]> {
  const rows = await sequelize.query<Row>(
    `WITH held AS (SELECT user_id, SUM(principal) AS total FROM assets GROUP BY user_id),
          inv AS (SELECT owner_user_id AS user_id, balance FROM accounts WHERE type = 'investor_invested')
     SELECT COALESCE(h.user_id, i.user_id)::text AS user_id,
            COALESCE(i.balance, 0)::text AS invested, COALESCE(h.total, 0)::text AS assets
       FROM held h FULL JOIN inv i ON i.user_id = h.user_id
      WHERE COALESCE(i.balance, 0) <> COALESCE(h.total, 0)
        AND ($1::bigint[] IS NULL OR COALESCE(h.user_id, i.user_id) = ANY($1::bigint[]))`,
    { bind: [userIds], type: QueryTypes.SELECT, transaction },
  );
  return rows.map((r) => ({
    userId: r.user_id,
    invested: toIdr(r.invested),
    assets: toIdr(r.assets),
  }));
}

/** What finance should do about a callback that was not applied. */
function callbackAction(outcome: string, id: string, instructionId: string): string {
  const ack = `then \`finance callback:ack ${id}\``;
  if (outcome.startsWith('amount mismatch'))
    return `check the amount with the gateway; \`finance instruction:resolve ${instructionId} success|failed\`, ${ack}`;
  if (outcome.startsWith('unknown instruction'))
    return `the gateway reported an instruction this platform never made: ask the gateway, ${ack}`;
  return `the gateway contradicts itself after a success (a returned payment?): check the gateway's statement, ${ack}`;
}

/**
 * Reconciles ledger ↔ instructions ↔ orders ↔ plans ↔ schedules ↔ assets ↔ notes and lists
 * every mismatch, and every exception that waits for finance, each with its action:
 * the ledger's own check; paid orders without an asset; collected order payments whose order
 * did not end paid or refunded; instructions without a result for a day; instructions held for
 * another amount; results that could not be applied (a payout that succeeded after its decline
 * was confirmed and the money was spent: recover it); callbacks not applied (a mismatch, a
 * contradiction after a success, an unknown instruction); loans whose bought amount differs
 * from their paid orders; auto-invest allocations whose total differs from their paid auto
 * orders; disbursed loans whose plan or holders' rows do not sum to the amount,
 * whose holders' rows differ from the plan in a period, or whose outstanding plan differs from
 * what their assets hold; assets whose amount differs from their unpaid rows or whose tradable
 * amount differs from what their open notes leave; notes whose reservation differs from their
 * orders in flight; investors whose `invested` differs from their assets; repayments held for
 * finance; loans whose disbursement failed. With `scope.loans`, only those loans and the
 * investors who hold them (the ledger check stays global).
 */
export async function reconcile(
  sequelize: Sequelize,
  scope: ReconcileScope = {},
  { transaction }: { transaction?: Transaction } = {},
): Promise<Mismatch[]> {
  const out: Mismatch[] = [];
  const q = (sql: string, bind: unknown[] = []) =>
    sequelize.query<Row>(sql, { bind, type: QueryTypes.SELECT, transaction });
  const ledger = await checkLedger({ transaction });
  const fixLedger = 'the ledger is append-only: find the cause, correct it with a reversal';
  for (const m of ledger.mismatches)
    out.push({
      check: 'ledger.cached_balance',
      ref: m.code,
      detail: `cached ${m.cached}, entries ${m.computed}`,
      action: fixLedger,
    });
  for (const u of ledger.unbalancedTransactions)
    out.push({
      check: 'ledger.unbalanced',
      ref: u.idempotencyKey,
      detail: `sums to ${u.sum}`,
      action: fixLedger,
    });
  if (ledger.trialBalance !== 0n)
    out.push({
      check: 'ledger.trial_balance',
      ref: 'all',
      detail: `sums to ${ledger.trialBalance}`,
      action: fixLedger,
    });

  let loanIds: string[] | null = null;
  let userIds: string[] | null = null;
  if (scope.loans) {
    loanIds = (
      await q('SELECT id::text FROM loans WHERE creditor_no = ANY($1::text[])', [scope.loans])
    ).map((r) => r.id);
    userIds = (
      await q(
        `SELECT user_id::text FROM assets WHERE loan_id = ANY($1::bigint[])
         UNION SELECT user_id::text FROM orders WHERE loan_id = ANY($1::bigint[])
         UNION SELECT buyer_id::text FROM credit_orders WHERE loan_id = ANY($1::bigint[])`,
        [loanIds],
      )
    ).map((r) => r.user_id);
  }
  const L = [loanIds];
  const inLoans = (col: string) => `($1::bigint[] IS NULL OR ${col} = ANY($1::bigint[]))`;
  // Every instruction with the loan and the investor it concerns, for scoping.
  const instructions = `(SELECT i.*, COALESCE(o.loan_id, co.loan_id, rp.loan_id,
                           CASE WHEN i.purpose = 'disbursement' THEN i.ref_id END) AS loan_id
                      FROM payment_instructions i
                      LEFT JOIN orders o ON i.purpose IN ('order', 'refund') AND o.id = i.ref_id
                      LEFT JOIN credit_orders co ON i.purpose IN ('transfer', 'transfer_reversal') AND co.id = i.ref_id
                      LEFT JOIN repayments rp ON i.purpose IN ('repayment', 'repayment_return') AND rp.id = i.ref_id)`;
  const scoped = `($1::bigint[] IS NULL OR x.loan_id = ANY($1::bigint[]) OR x.user_id = ANY($2::bigint[]))`;

  for (const r of await q(
    `SELECT o.id FROM orders o LEFT JOIN assets a ON a.order_id = o.id
      WHERE o.status = 'paid' AND a.id IS NULL AND ${inLoans('o.loan_id')}`,
    L,
  ))
    out.push({
      check: 'order.paid_without_asset',
      ref: `order ${r.id}`,
      detail: 'paid but no asset',
      action: 'investigate: the purchase was applied without its asset',
    });
  for (const r of await q(
    `SELECT i.id, o.id AS order_id, o.status FROM payment_instructions i JOIN orders o ON o.id = i.ref_id
      WHERE i.purpose = 'order' AND i.status = 'succeeded' AND o.status NOT IN ('paid', 'refunding', 'refunded')
        AND ${inLoans('o.loan_id')}`,
    L,
  ))
    out.push({
      check: 'instruction.order_not_settled',
      ref: `instruction ${r.id}`,
      detail: `collected, but order ${r.order_id} is ${r.status}`,
      action: `\`finance order:requeue ${r.order_id}\`, or refund the investor`,
    });
  for (const r of await q(
    `SELECT x.id, x.purpose, x.status FROM ${instructions} x
      WHERE x.status IN ('created', 'submitted', 'unknown', 'declined')
        AND x.created_at < $3 AND ${scoped}`,
    [loanIds, userIds, new Date(nowMs() - 86_400_000)],
  ))
    out.push({
      check: 'instruction.unresolved',
      ref: `instruction ${r.id}`,
      detail: `${r.purpose} still ${r.status} after a day`,
      action: `\`finance instruction:query ${r.id}\`; ask the gateway`,
    });
  for (const r of await q(
    `SELECT x.id, x.purpose, x.fail_reason FROM ${instructions} x WHERE x.status = 'held' AND ${scoped}`,
    [loanIds, userIds],
  ))
    out.push({
      check: 'instruction.held',
      ref: `instruction ${r.id}`,
      detail: `${r.purpose}: ${r.fail_reason}`,
      action: `check with the gateway, then \`finance instruction:resolve ${r.id} success|failed\``,
    });
  for (const r of await q(
    `SELECT x.id, x.purpose, x.outcome FROM ${instructions} x
      WHERE x.outcome LIKE '%not applied%' AND x.acknowledged_at IS NULL AND ${scoped}`,
    [loanIds, userIds],
  ))
    out.push({
      check: 'instruction.not_applied',
      ref: `instruction ${r.id}`,
      detail: `${r.purpose}: ${r.outcome}`,
      action: `do what it says (recover the money), then \`finance instruction:ack ${r.id}\``,
    });
  for (const r of await q(
    `SELECT c.id, c.instruction_id, c.status, c.amount::text, c.outcome FROM gateway_callbacks c
       LEFT JOIN ${instructions} x ON x.id = c.instruction_id
      WHERE c.processed_at IS NOT NULL AND c.acknowledged_at IS NULL
        AND (c.outcome LIKE 'amount mismatch%' OR c.outcome LIKE 'conflict%' OR c.outcome = 'unknown instruction')
        AND ($1::bigint[] IS NULL OR x.loan_id = ANY($1::bigint[]) OR x.user_id = ANY($2::bigint[]))`,
    [loanIds, userIds],
  ))
    out.push({
      check: 'callback.not_applied',
      ref: `callback ${r.id}`,
      detail: `instruction ${r.instruction_id}, ${r.status} ${r.amount}: ${r.outcome}`,
      action: callbackAction(r.outcome, r.id, r.instruction_id),
    });
  for (const r of await q(
    `SELECT l.creditor_no, l.bought_amount::text AS bought, COALESCE(SUM(o.amount), 0)::text AS paid
       FROM loans l LEFT JOIN orders o ON o.loan_id = l.id AND o.status = 'paid'
      WHERE ${inLoans('l.id')}
      GROUP BY l.id HAVING l.bought_amount <> COALESCE(SUM(o.amount), 0)`,
    L,
  ))
    out.push({
      check: 'loan.bought_vs_orders',
      ref: r.creditor_no,
      detail: `bought ${r.bought}, paid orders ${r.paid}`,
      action: 'investigate the loan counters',
    });
  for (const r of await q(
    `SELECT l.creditor_no, a.allocated::text AS allocated, COALESCE(SUM(o.amount), 0)::text AS paid
       FROM auto_invest_allocations a JOIN loans l ON l.id = a.loan_id
       LEFT JOIN orders o ON o.loan_id = l.id AND o.source = 'auto' AND o.status = 'paid'
      WHERE ${inLoans('l.id')}
      GROUP BY l.id, a.allocated HAVING a.allocated <> COALESCE(SUM(o.amount), 0)`,
    L,
  ))
    out.push({
      check: 'auto_invest.allocated_vs_orders',
      ref: r.creditor_no,
      detail: `auto-invest allocated ${r.allocated}, paid auto orders ${r.paid}`,
      action: 'investigate the allocation (auto_invest_allocations, auto_invest_history)',
    });
  const disbursed = `l.status IN ('repaying', 'overdue', 'repaid') AND ${inLoans('l.id')}`;
  for (const r of await q(
    `SELECT l.creditor_no, l.amount::text AS amount,
            (SELECT COALESCE(SUM(p.principal), 0) FROM repayment_plans p WHERE p.loan_id = l.id)::text AS plan,
            (SELECT COALESCE(SUM(s.principal), 0) FROM repayment_schedules s WHERE s.loan_id = l.id)::text AS rows
       FROM loans l WHERE ${disbursed}`,
    L,
  )) {
    if (r.plan !== r.amount || r.rows !== r.amount)
      out.push({
        check: 'loan.schedule_principal',
        ref: r.creditor_no,
        detail: `amount ${r.amount}, plan ${r.plan}, holders' rows ${r.rows}`,
        action: 'investigate: plan and rows are fixed at disbursement',
      });
  }
  for (const r of await q(
    `SELECT l.creditor_no, p.period, p.principal::text AS plan, COALESCE(SUM(s.principal), 0)::text AS rows
       FROM loans l JOIN repayment_plans p ON p.loan_id = l.id
       LEFT JOIN repayment_schedules s ON s.loan_id = l.id AND s.period = p.period
      WHERE ${disbursed}
      GROUP BY l.creditor_no, p.period, p.principal HAVING p.principal <> COALESCE(SUM(s.principal), 0)`,
    L,
  ))
    out.push({
      check: 'loan.plan_vs_holders',
      ref: `${r.creditor_no} period ${r.period}`,
      detail: `plan ${r.plan}, holders' rows ${r.rows}`,
      action: 'investigate the schedule split',
    });
  for (const r of await q(
    `SELECT l.creditor_no,
            (SELECT COALESCE(SUM(p.principal), 0) FROM repayment_plans p WHERE p.loan_id = l.id AND p.status = 'pending')::text AS outstanding,
            (SELECT COALESCE(SUM(a.principal), 0) FROM assets a WHERE a.loan_id = l.id)::text AS held
       FROM loans l WHERE ${disbursed}`,
    L,
  )) {
    if (r.outstanding !== r.held)
      out.push({
        check: 'loan.outstanding_vs_assets',
        ref: r.creditor_no,
        detail: `outstanding ${r.outstanding}, assets hold ${r.held}`,
        action: 'investigate the clearing and the sales of this loan',
      });
  }
  for (const r of await q(
    `SELECT a.id, a.principal::text AS amount, COALESCE(SUM(s.principal) FILTER (WHERE s.status = 'pending'), 0)::text AS unpaid
       FROM assets a JOIN loans l ON l.id = a.loan_id LEFT JOIN repayment_schedules s ON s.asset_id = a.id
      WHERE ${disbursed}
      GROUP BY a.id HAVING a.principal <> COALESCE(SUM(s.principal) FILTER (WHERE s.status = 'pending'), 0)`,
    L,
  ))
    out.push({
      check: 'asset.amount_vs_rows',
      ref: `asset ${r.id}`,
      detail: `amount ${r.amount}, unpaid rows ${r.unpaid}`,
      action: 'investigate the clearing and the sales of this asset',
    });
  for (const r of await q(
    `SELECT a.id, a.principal::text AS amount, a.max_tradable_amount::text AS tradable,
            COALESCE(SUM(n.amount - n.traded_amount) FILTER (WHERE n.status = 'open'), 0)::text AS offered
       FROM assets a LEFT JOIN credit_notes n ON n.asset_id = a.id
      WHERE ${inLoans('a.loan_id')}
      GROUP BY a.id
     HAVING a.max_tradable_amount <> a.principal - COALESCE(SUM(n.amount - n.traded_amount) FILTER (WHERE n.status = 'open'), 0)`,
    L,
  ))
    out.push({
      check: 'asset.tradable',
      ref: `asset ${r.id}`,
      detail: `amount ${r.amount}, tradable ${r.tradable}, open notes offer ${r.offered}`,
      action: 'investigate the notes of this asset',
    });
  for (const r of await q(
    `SELECT n.id, n.reserved_amount::text AS reserved, COALESCE(SUM(o.principal) FILTER (WHERE o.reserved), 0)::text AS orders
       FROM credit_notes n LEFT JOIN credit_orders o ON o.note_id = n.id
      WHERE ${inLoans('n.loan_id')}
      GROUP BY n.id HAVING n.reserved_amount <> COALESCE(SUM(o.principal) FILTER (WHERE o.reserved), 0)`,
    L,
  ))
    out.push({
      check: 'note.reserved_vs_orders',
      ref: `note ${r.id}`,
      detail: `reserved ${r.reserved}, orders in flight ${r.orders}`,
      action: 'investigate the credit orders of this note',
    });
  for (const m of await investedMismatches(sequelize, userIds, transaction))
    out.push({
      check: 'investor.invested_vs_assets',
      ref: `user ${m.userId}`,
      detail: `invested ${m.invested}, assets ${m.assets}`,
      action: 'investigate the investor’s postings',
    });
  for (const r of await q(
    `SELECT r.repayment_no, r.hold_code, r.hold_reason FROM repayments r
      WHERE r.status = 'held' AND ${inLoans('r.loan_id')}
        AND NOT (r.hold_code = 'EARLIER_PERIOD_UNPAID' AND EXISTS (
              SELECT 1 FROM repayment_plans p WHERE p.loan_id = r.loan_id AND p.status = 'pending' AND p.period < r.period))`,
    L,
  ))
    out.push({
      check: 'repayment.held',
      ref: r.repayment_no,
      detail: `${r.hold_code}: ${r.hold_reason}`,
      action: `\`finance repayment:clear ${r.repayment_no}\` after a correction, or \`finance repayment:return ${r.repayment_no}\``,
    });
  for (const r of await q(
    `SELECT l.creditor_no FROM loans l WHERE l.status = 'disburse_failed' AND ${inLoans('l.id')}`,
    L,
  ))
    out.push({
      check: 'loan.disburse_failed',
      ref: r.creditor_no,
      detail: 'the disbursement failed',
      action: `\`finance disbursement:retry ${r.creditor_no}\``,
    });
  return out;
}

/** The admin reconciliation summary: platform account totals, instructions by state, what waits for finance. */
export async function reconciliationSummary(sequelize: Sequelize) {
  const q = <T extends object>(sql: string) => sequelize.query<T>(sql, { type: QueryTypes.SELECT });
  const accounts = await q<{ code: string; balance: string }>(
    `SELECT code, balance::text FROM (${ACCOUNT_BALANCES_SQL}) b WHERE owner_user_id IS NULL ORDER BY code`,
  );
  const instructions = await q<{ purpose: string; status: string; n: string; amount: string }>(
    `SELECT purpose, status, COUNT(*)::text AS n, SUM(amount)::text AS amount FROM payment_instructions GROUP BY purpose, status ORDER BY purpose, status`,
  );
  const [waiting] = await q<{ held: string; notifications: string; disburse_failed: string }>(
    `SELECT (SELECT COUNT(*) FROM repayments WHERE status = 'held')::text AS held,
            (SELECT COUNT(*) FROM partner_notifications WHERE status = 'pending')::text AS notifications,
            (SELECT COUNT(*) FROM loans WHERE status = 'disburse_failed')::text AS disburse_failed`,
  );
  const investor = await q<{ type: string; balance: string }>(
    `SELECT type, COALESCE(SUM(balance), 0)::text AS balance FROM accounts WHERE owner_user_id IS NOT NULL GROUP BY type ORDER BY type`,
  );
  const platform = Object.fromEntries(PLATFORM_ACCOUNT_TYPES.map((t) => [t, 0 as number | string]));
  for (const a of accounts) platform[a.code] = idrToJson(toIdr(a.balance));
  return {
    platformAccounts: platform,
    investorAccounts: Object.fromEntries(
      INVESTOR_ACCOUNT_TYPES.map((t) => [
        t,
        idrToJson(toIdr(investor.find((r) => r.type === t)?.balance ?? 0)),
      ]),
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
