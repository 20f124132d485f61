/**
 * The clearing scenario of `npm run bench`: a repayment of one loan with HOLDERS holders,
 * cleared by the real service (clearRepayment) in this process, beside the raw ceiling.
 * The ceiling is the same writes done by raw set-based SQL in the real tables (see below).
 * Runs alone too: `npx tsx scripts/bench-clearing.ts --holders 10000` (scratch database
 * p2p_bench_clear).
 */
import { Pool } from 'pg';
import { getConfig } from '../config';
import { createSequelize, withTransaction } from '../src/lib/db';
import { createMigrator } from '../src/lib/migrator';
import { piiCipher } from '../src/lib/model-columns';
import {
  accountCode,
  investorAccount,
  platformAccount,
  AccountType,
} from '../src/modules/ledger/ledger.accounts';
import { LedgerKind } from '../src/modules/ledger/ledger.kinds';
import { postTransaction } from '../src/modules/ledger/ledger.service';
import { clearRepayment } from '../src/modules/repayments/repayments.service';
import { seedDemoData } from '../src/seed';
import type { Sequelize } from 'sequelize-typescript';
import { scratchDatabase } from './scratch-db';

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

export interface ClearingFigures {
  outcome: string;
  clearSeconds: number;
  rawSeconds: number;
  /** A bare INSERT of as many rows into an unindexed table, for reference. */
  bareSeconds: number;
  fundSeconds: number;
}

/** Builds the loan, its holders and rows with raw SQL, then times clearing against raw. */
export async function benchClearing(
  sequelize: Sequelize,
  raw: Pool,
  holders: number,
  tag = 'CLEAR1',
): Promise<ClearingFigures> {
  const {
    rows: [loanRow],
  } = await raw.query(
    `INSERT INTO loans (creditor_no, loan_purpose, risk_level, year_rate_fin, year_rate_loan, term, term_unit, repayment_method, amount, service_fee,
       published_at, deadline, borrower_id, bank_code, bank_name, bank_card_encrypted, bank_card_last4, bank_card_holder_encrypted, status, bought_amount, loan_time)
     VALUES ($2, 'bench', 'A', 12, 18, 30, 'day', 'bullet', $1, 0, now(), now(), 'b', 'BCA', 'BCA', 'x', '1234', $3, 'repaying', $1, now()) RETURNING id`,
    [holders * 100_000, tag, piiCipher().encrypt('Bench Borrower')],
  );
  const { rows: users } = await raw.query<{ id: string }>(
    `INSERT INTO users (role) SELECT 'investor' FROM generate_series(1, ${holders}) RETURNING id`,
  );
  await raw.query(
    `WITH a AS (INSERT INTO assets (user_id, loan_id, principal, max_tradable_amount, status)
                SELECT u, $1, 100000, 100000, 'holding' FROM unnest($2::bigint[]) u RETURNING id, user_id)
     INSERT INTO repayment_schedules (asset_id, loan_id, user_id, period, due_date, principal, interest, status)
     SELECT id, $1, user_id, 1, current_date + 30, 100000, 986, 'pending' FROM a`,
    [loanRow.id, users.map((u) => u.id)],
  );
  await raw.query(
    `INSERT INTO repayment_plans (loan_id, period, due_date, principal, interest, status)
     VALUES ($1, 1, current_date + 30, $2, $3, 'pending')`,
    [loanRow.id, String(BigInt(holders) * 100_000n), String(BigInt(holders) * 1_200n)],
  );
  const tFund = process.hrtime.bigint();
  await withTransaction(sequelize, (transaction) =>
    postTransaction(
      {
        kind: LedgerKind.Adjustment,
        idempotencyKey: `bench-invested-${tag}`,
        entries: [
          {
            account: platformAccount(AccountType.BorrowerPayable),
            amount: -BigInt(holders) * 100_000n,
          },
          ...users.map((u) => ({ account: investorAccount(u.id, 'invested'), amount: 100_000n })),
        ],
      },
      { transaction },
    ),
  );
  const fundSeconds = seconds(tFund);
  const total = BigInt(holders) * 100_000n + BigInt(holders) * 1_200n;
  const {
    rows: [rep],
  } = await raw.query(
    `INSERT INTO repayments (repayment_no, loan_id, creditor_no, period, principal, interest, late_fee, overdue_service_fee, total, paid_at, body_hash, status)
     VALUES ($5, $1, $6, 1, $2, $3, 0, 0, $4, now(), 'x', 'arrived') RETURNING id`,
    [
      loanRow.id,
      String(BigInt(holders) * 100_000n),
      String(BigInt(holders) * 1_200n),
      String(total),
      `${tag}-R1`,
      tag,
    ],
  );
  await withTransaction(sequelize, (transaction) =>
    postTransaction(
      {
        kind: LedgerKind.RepaymentReceived,
        idempotencyKey: `bench-received-${tag}`,
        entries: [
          { account: platformAccount(AccountType.Escrow), amount: -total },
          { account: platformAccount(AccountType.GatewayClearing), amount: total },
        ],
      },
      { transaction },
    ),
  );
  await raw.query('VACUUM ANALYZE repayment_schedules, assets, accounts');

  // The ceiling: the same writes as raw set-based SQL in one transaction (rolled back): the
  // holders' available accounts created, their accounts locked, the transaction and its
  // 3 × holders + 4 entries inserted, the balances, schedule rows and assets updated.
  const userIds = users.map((u) => u.id);
  const tRaw = process.hrtime.bigint();
  const c = await raw.connect();
  await c.query('BEGIN');
  await c.query(
    `INSERT INTO accounts (code, type, owner_user_id, allow_negative)
     SELECT c, $3, u, false FROM unnest($1::text[], $2::bigint[]) AS v(c, u) ORDER BY c
     ON CONFLICT (code) DO NOTHING`,
    [
      userIds.map((u) => accountCode(investorAccount(u, 'available'))),
      userIds,
      AccountType.InvestorAvailable,
    ],
  );
  await c.query(
    'SELECT id FROM accounts WHERE owner_user_id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE',
    [userIds],
  );
  const {
    rows: [tx],
  } = await c.query(
    `INSERT INTO ledger_transactions (kind, idempotency_key, entries_hash, metadata)
     VALUES ($1, $2, 'ceiling', '{}') RETURNING id`,
    [LedgerKind.RepaymentClearing, `ceiling-${tag}`],
  );
  await c.query(
    `INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after, memo)
     SELECT $1::bigint, a.id, v.amount, a.balance + v.amount, v.memo
       FROM repayment_schedules s
       CROSS JOIN LATERAL (VALUES ($3::text, -s.principal, 'principal'), ($4, s.principal, 'principal'),
                                  ($4, s.interest, 'interest')) AS v(type, amount, memo)
       JOIN accounts a ON a.owner_user_id = s.user_id AND a.type = v.type
      WHERE s.loan_id = $2 AND s.period = 1 AND v.amount <> 0
     UNION ALL
     SELECT $1::bigint, a.id, v.amount, NULL, v.memo
       FROM (VALUES ($5::text, $6::bigint, NULL::text), ($7, $8::bigint, 'principal'), ($9, $10::bigint, 'spread')) AS v(code, amount, memo)
       JOIN accounts a ON a.code = v.code`,
    [
      tx.id,
      loanRow.id,
      AccountType.InvestorInvested,
      AccountType.InvestorAvailable,
      AccountType.GatewayClearing,
      String(-total),
      AccountType.BorrowerPayable,
      String(BigInt(holders) * 100_000n),
      AccountType.RevenueSpread,
      String(BigInt(holders) * 214n),
    ],
  );
  await c.query(
    `UPDATE accounts a
        SET balance = a.balance + CASE WHEN a.type = $2 THEN -s.principal ELSE s.principal + s.interest END,
            updated_at = now()
       FROM repayment_schedules s
      WHERE s.loan_id = $1 AND s.period = 1 AND a.owner_user_id = s.user_id AND a.type IN ($2, $3)`,
    [loanRow.id, AccountType.InvestorInvested, AccountType.InvestorAvailable],
  );
  await c.query(
    `UPDATE repayment_schedules SET status = 'paid', paid_at = now(), repayment_id = $2, updated_at = now()
      WHERE loan_id = $1 AND period = 1`,
    [loanRow.id, rep.id],
  );
  await c.query(
    `UPDATE assets SET principal = 0, max_tradable_amount = 0, status = 'repaid', updated_at = now()
      WHERE loan_id = $1`,
    [loanRow.id],
  );
  await c.query('ROLLBACK');
  c.release();
  const rawSeconds = seconds(tRaw);
  await raw.query('VACUUM ANALYZE repayment_schedules, assets, accounts, ledger_entries');

  const tClear = process.hrtime.bigint();
  const outcome = await clearRepayment(String(rep.id));
  const clearSeconds = seconds(tClear);

  // For reference (the figure before #11's ceiling): as many rows into a bare table with no
  // index, constraint or account behind it.
  await raw.query(
    'CREATE TABLE IF NOT EXISTS bench_entry (id bigserial PRIMARY KEY, order_id bigint, amount bigint)',
  );
  const tBare = process.hrtime.bigint();
  const b = await raw.connect();
  await b.query('BEGIN');
  await b.query(
    `INSERT INTO bench_entry (order_id, amount) SELECT g, 100000 FROM generate_series(1, ${holders * 3 + 4}) g`,
  );
  await b.query('ROLLBACK');
  b.release();
  const bareSeconds = seconds(tBare);
  return { outcome, clearSeconds, rawSeconds, bareSeconds, fundSeconds };
}

async function standalone() {
  const holders = Number(process.argv[process.argv.indexOf('--holders') + 1] || 10_000);
  const base = getConfig();
  const databaseUrl = await scratchDatabase(base.databaseUrl, 'p2p_bench_clear');
  const sequelize = createSequelize(databaseUrl);
  await createMigrator(sequelize).up();
  await seedDemoData(sequelize, base);
  const raw = new Pool({ connectionString: databaseUrl, max: 4 });
  for (let i = 1; i <= 3; i++) {
    const f = await benchClearing(sequelize, raw, holders, `CLEAR${i}`);
    console.log(
      `clearing ${holders} holders: ${f.clearSeconds.toFixed(3)} s, raw ${f.rawSeconds.toFixed(3)} s, ratio ${(f.clearSeconds / f.rawSeconds).toFixed(2)}x (${f.outcome}); funding ${f.fundSeconds.toFixed(3)} s`,
    );
  }
  await raw.end();
  await sequelize.close();
}

if (require.main === module)
  standalone().catch((err) => {
    console.error(err);
    process.exit(1);
  });
