import { QueryTypes } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import { ACCOUNT_BALANCES_SQL, checkLedger } from '../../src/modules/ledger/ledger.service';
import { reconcile } from '../../src/modules/reconciliation/reconciliation.service';

/** An invariant that does not hold, with the rows that break it. */
export interface Violation {
  invariant: string;
  detail: string;
  rows: unknown[];
}

/** What reconcile says that is an error in the books, not work waiting for finance. */
const RECONCILE_INVARIANTS: Record<string, string> = {
  'loan.plan_vs_holders': "per loan and period, the holders' rows sum to the plan",
  'loan.schedule_principal': 'a disbursed loan’s plan and rows sum to its amount',
  'loan.outstanding_vs_assets': "a loan's outstanding principal is what its assets hold",
  'asset.amount_vs_rows': "an asset's amount is its unpaid rows' principal",
  'asset.tradable': "an asset's tradable amount is what it holds minus its open notes",
  'note.reserved_vs_orders': "a note's reservation is its orders in flight",
  'investor.invested_vs_assets': "an investor's invested is the sum of its assets",
  'order.paid_without_asset': 'a paid order has its asset',
  'instruction.order_not_settled': 'a collected order payment has its effect',
  'loan.bought_vs_orders': "a loan's bought amount is its paid orders",
  'auto_invest.allocated_vs_orders': "an allocation's total is its paid auto orders",
};

/** Reconcile's lists of work waiting for finance: allowed during a run, not at its end. */
const WAITING_FOR_FINANCE = [
  'repayment.held',
  'loan.disburse_failed',
  'instruction.held',
  'instruction.not_applied',
  'callback.not_applied',
  'instruction.unresolved',
];

type Row = Record<string, unknown>;

/** One invariant: a name, a sentence, and the SQL that returns the rows breaking it. */
const SQL_INVARIANTS: { name: string; what: string; sql: string }[] = [
  {
    name: 'ledger.no_negative',
    what: 'no balance below zero where the account does not allow it',
    sql: `SELECT code, balance::text FROM (${ACCOUNT_BALANCES_SQL}) b WHERE NOT allow_negative AND balance < 0`,
  },
  {
    name: 'loan.no_oversell',
    what: 'lockedAmount + boughtAmount ≤ amount',
    sql: `SELECT creditor_no, locked_amount::text, bought_amount::text, amount::text FROM loans
           WHERE locked_amount + bought_amount > amount`,
  },
  {
    name: 'loan.locked_vs_locks',
    what: "a loan's locked amount is the orders that hold a lock on it",
    sql: `SELECT l.creditor_no, l.locked_amount::text, COALESCE(SUM(o.amount), 0)::text AS locks
            FROM loans l LEFT JOIN orders o ON o.loan_id = l.id AND o.holds_lock
           GROUP BY l.id HAVING l.locked_amount <> COALESCE(SUM(o.amount), 0)`,
  },
  {
    name: 'gateway.one_effect',
    what: 'every recharge the gateway collected is credited exactly once (and only those)',
    sql: `SELECT r.id, r.status, COUNT(t.id)::int AS credits FROM recharges r
            LEFT JOIN ledger_transactions t
              ON t.idempotency_key = 'recharge:' || r.id OR t.idempotency_key LIKE 'recharge:' || r.id || ':%'
           GROUP BY r.id HAVING COUNT(t.id) <> CASE WHEN r.status = 'succeeded' THEN 1 ELSE 0 END`,
  },
  {
    name: 'gateway.one_effect',
    what: 'every collected purchase payment is paid or refunded, once',
    sql: `SELECT o.id, o.status,
                 (SELECT COUNT(*) FROM ledger_transactions t
                   WHERE t.idempotency_key IN ('order:' || o.id || ':paid', 'order:' || o.id || ':refund-in'))::int AS effects
            FROM orders o JOIN payment_instructions i ON i.purpose = 'order' AND i.ref_id = o.id AND i.status = 'succeeded'
           WHERE (SELECT COUNT(*) FROM ledger_transactions t
                   WHERE t.idempotency_key IN ('order:' || o.id || ':paid', 'order:' || o.id || ':refund-in')) <> 1`,
  },
  {
    name: 'gateway.one_effect',
    what: 'every withdrawal the gateway paid out is debited once',
    sql: `SELECT w.id, w.status FROM withdrawals w
            JOIN payment_instructions i ON i.purpose = 'withdrawal' AND i.ref_id = w.id AND i.status = 'succeeded'
           WHERE (i.outcome IS NULL OR i.outcome NOT LIKE '%not applied%')
             AND (w.status <> 'succeeded' OR (SELECT COUNT(*) FROM ledger_transactions t
                   WHERE t.idempotency_key IN ('withdrawal:' || w.id || ':paid', 'withdrawal:' || w.id || ':paid-late')) <> 1)`,
  },
  {
    name: 'gateway.one_effect',
    what: 'every repayment whose money arrived is received once',
    sql: `SELECT r.repayment_no, r.status FROM repayments r
            JOIN payment_instructions i ON i.purpose = 'repayment' AND i.ref_id = r.id AND i.status = 'succeeded'
           WHERE r.status IN ('reported', 'failed')
              OR NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.idempotency_key = 'repayment:' || r.id || ':received')`,
  },
  {
    name: 'gateway.one_effect',
    what: "every buyer payment the custodian made is the order's, or reversed",
    sql: `SELECT c.id, c.status, c.buyer_payment_status FROM credit_orders c
            JOIN payment_instructions i ON i.purpose = 'transfer' AND i.ref_id = c.id AND i.status = 'succeeded'
           WHERE c.buyer_payment_status <> 1
              OR (c.status = 'failed' AND NOT EXISTS (
                    SELECT 1 FROM payment_instructions r WHERE r.purpose = 'transfer_reversal' AND r.ref_id = c.id))`,
  },
  {
    name: 'gateway.one_effect',
    what: 'a loan is disbursed by one payout',
    sql: `SELECT l.creditor_no, COUNT(i.id)::int AS payouts FROM loans l
            JOIN payment_instructions i ON i.purpose = 'disbursement' AND i.ref_id = l.id AND i.status = 'succeeded'
             AND (i.outcome IS NULL OR i.outcome NOT LIKE '%not applied%')
           GROUP BY l.id HAVING COUNT(i.id) > 1`,
  },
  {
    name: 'paid_once',
    what: 'no order, credit order or repayment is paid twice',
    sql: `SELECT kind, COALESCE(metadata->>'orderId', metadata->>'creditOrderId', metadata->>'repaymentNo') AS ref,
                 COUNT(*)::int AS times
            FROM ledger_transactions
           WHERE kind IN ('purchase_paid', 'transfer_sell', 'repayment_clearing')
           GROUP BY 1, 2 HAVING COUNT(*) > 1`,
  },
  {
    name: 'auto_invest.one_slice',
    what: 'a rule buys at most one slice of a loan',
    sql: `SELECT loan_id, user_id, COUNT(*)::int AS orders FROM orders WHERE source = 'auto'
           GROUP BY 1, 2 HAVING COUNT(*) > 1`,
  },
  {
    name: 'auto_invest.share_cap',
    what: 'the rules never buy more than AUTO_INVEST_MAX_SHARE of a loan',
    sql: `SELECT a.loan_id, a.share_cap::text, COALESCE(SUM(o.amount), 0)::text AS bought
            FROM auto_invest_allocations a
            LEFT JOIN orders o ON o.loan_id = a.loan_id AND o.source = 'auto' AND o.status = 'paid'
           GROUP BY a.loan_id, a.share_cap HAVING COALESCE(SUM(o.amount), 0) > a.share_cap`,
  },
  {
    name: 'auto_invest.order_is_history',
    what: 'every auto order is one line of the rule history, and every ordered line has its order',
    sql: `SELECT 'order ' || o.id AS ref FROM orders o
           WHERE o.source = 'auto' AND NOT EXISTS (SELECT 1 FROM auto_invest_history h
             WHERE h.order_id = o.id AND h.user_id = o.user_id AND h.loan_id = o.loan_id AND h.amount = o.amount)`,
  },
  {
    name: 'outbox.every_enqueue',
    what: 'every state change that needs a job wrote its outbox row in the same transaction',
    sql: `SELECT 'order ' || o.id AS ref FROM orders o
           WHERE o.user_id <> $1 AND o.source = 'manual' AND NOT EXISTS (SELECT 1 FROM outbox x
             WHERE x.job_name = 'order.lock' AND x.payload->>'orderId' = o.id::text)
          UNION ALL
          SELECT 'allocation ' || a.loan_id FROM auto_invest_allocations a
           WHERE NOT EXISTS (SELECT 1 FROM outbox x
             WHERE x.job_name = 'auto-invest.allocate' AND x.payload->>'loanId' = a.loan_id::text)
          UNION ALL
          SELECT 'credit order ' || c.id FROM credit_orders c
           WHERE NOT EXISTS (SELECT 1 FROM outbox x
             WHERE x.job_name = 'credit-order.confirm' AND x.payload->>'orderId' = c.id::text)
          UNION ALL
          SELECT 'kyc ' || k.id FROM kyc_verifications k
           WHERE NOT EXISTS (SELECT 1 FROM outbox x
             WHERE x.job_name = 'kyc.verify' AND x.payload->>'verificationId' = k.id::text)
          UNION ALL
          SELECT 'loan ' || l.creditor_no FROM loans l
           WHERE NOT EXISTS (SELECT 1 FROM outbox x
             WHERE x.job_name = 'borrower.fetch' AND x.payload->>'creditorNo' = l.creditor_no)`,
  },
];

/** Work that waits for a job: empty once the system is quiet (liveness). */
const WAITING: { what: string; sql: string }[] = [
  {
    what: 'orders waiting',
    sql: `SELECT 'order ' || id || ' ' || status AS ref FROM orders WHERE status IN ('pending', 'locked', 'paying', 'refunding')`,
  },
  {
    what: 'loans waiting',
    sql: `SELECT 'loan ' || creditor_no || ' ' || status AS ref FROM loans
           WHERE status IN ('settling', 'full', 'disbursing') OR (status = 'open' AND deadline < $1)
              OR borrower_fetched_at IS NULL`,
  },
  {
    what: 'repayments waiting',
    sql: `SELECT 'repayment ' || repayment_no || ' ' || status AS ref FROM repayments
           WHERE status IN ('reported', 'arrived', 'returning')`,
  },
  {
    what: 'credit orders waiting',
    sql: `SELECT 'credit order ' || id || ' ' || status AS ref FROM credit_orders
           WHERE status IN ('initial', 'processing', 'abnormal')`,
  },
  {
    what: 'auto-invest allocations waiting',
    sql: `SELECT 'allocation ' || loan_id AS ref FROM auto_invest_allocations WHERE status = 'pending'`,
  },
  {
    what: 'KYC waiting',
    sql: `SELECT 'kyc ' || id AS ref FROM kyc_verifications WHERE status = 'pending'`,
  },
  {
    what: 'instructions waiting',
    sql: `SELECT 'instruction ' || id || ' ' || purpose || ' ' || status AS ref FROM payment_instructions
           WHERE status IN ('created', 'submitted', 'unknown', 'declined')`,
  },
  {
    what: 'outbox rows not relayed',
    sql: `SELECT 'outbox ' || id || ' ' || job_name AS ref FROM outbox WHERE dispatched_at IS NULL`,
  },
  {
    what: 'callbacks not applied',
    sql: `SELECT 'callback ' || id AS ref FROM gateway_callbacks WHERE processed_at IS NULL`,
  },
  {
    what: 'partner notifications not delivered',
    sql: `SELECT 'notification ' || id || ' ' || event AS ref FROM partner_notifications WHERE status = 'pending'`,
  },
];

/** Every row of work still waiting for a job (empty when the system is quiet). */
export async function waitingWork(sequelize: Sequelize, now: Date): Promise<string[]> {
  const out: string[] = [];
  for (const w of WAITING) {
    const rows = await sequelize.query<{ ref: string }>(w.sql, {
      bind: w.sql.includes('$1') ? [now] : [],
      type: QueryTypes.SELECT,
    });
    out.push(...rows.map((r) => r.ref));
  }
  return out;
}

/**
 * Checks every invariant once; returns how many were checked and what broke. During a run,
 * reconcile's "waiting for finance" lists are allowed; at the end (`final`) nothing may wait:
 * no work waits for a job (liveness) and reconcile is clean.
 */
export async function checkInvariants(
  sequelize: Sequelize,
  opts: { final: boolean; superInvestorId: number; now: Date },
): Promise<{ checks: number; violations: Violation[] }> {
  const violations: Violation[] = [];
  let checks = 0;
  const ledger = await checkLedger();
  checks += 1;
  if (!ledger.ok)
    violations.push({
      invariant: 'ledger.balanced',
      detail: `trial balance ${ledger.trialBalance}, cached total ${ledger.cachedTotal}`,
      rows: [...ledger.mismatches, ...ledger.unbalancedTransactions].map((m) =>
        JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
      ),
    });
  for (const inv of SQL_INVARIANTS) {
    checks += 1;
    const rows = await sequelize.query<Row>(inv.sql, {
      bind: inv.sql.includes('$1') ? [opts.superInvestorId] : [],
      type: QueryTypes.SELECT,
    });
    if (rows.length) violations.push({ invariant: inv.name, detail: inv.what, rows });
  }
  const listed = await reconcile(sequelize);
  checks += Object.keys(RECONCILE_INVARIANTS).length;
  for (const [check, what] of Object.entries(RECONCILE_INVARIANTS)) {
    const rows = listed.filter((m) => m.check === check);
    if (rows.length) violations.push({ invariant: check, detail: what, rows });
  }
  if (opts.final) {
    checks += 2;
    const waiting = await waitingWork(sequelize, opts.now);
    if (waiting.length)
      violations.push({
        invariant: 'liveness',
        detail: 'once faults stop, everything reaches a final state within a bounded time',
        rows: waiting,
      });
    const left = listed.filter(
      (m) => !(m.check in RECONCILE_INVARIANTS) && !m.check.startsWith('ledger.'),
    );
    if (left.length)
      violations.push({
        invariant: 'reconcile.clean',
        detail: 'finance reconcile is clean',
        rows: left,
      });
  } else {
    // During the run, only what reconcile lists as waiting for finance may be there.
    const unexpected = listed.filter(
      (m) =>
        !(m.check in RECONCILE_INVARIANTS) &&
        !m.check.startsWith('ledger.') &&
        !WAITING_FOR_FINANCE.includes(m.check),
    );
    checks += 1;
    if (unexpected.length)
      violations.push({
        invariant: 'reconcile.known',
        detail: 'reconcile lists only known kinds',
        rows: unexpected,
      });
  }
  return { checks, violations };
}

/** An action that failed as no client or party should see: a violation of its own. */
export function crashed(err: unknown, what = 'an action'): Violation {
  const e = err as Error;
  return {
    invariant: 'no_unexpected_error',
    detail: 'no action or job fails with an unexpected error (a 500 to a client, a bug in a job)',
    rows: [`${what}: ${e?.name}: ${e?.message}`, ...(e?.stack ?? '').split('\n').slice(1, 6)],
  };
}
