/**
 * The auto-invest scenario of `npm run bench`: one new loan offered to RULES enabled rules (one
 * investor each, KYC-verified, card bound, wallet funded), allocated by the real job's service
 * (allocateLoan, sandbox partner) in this process, beside the raw ceiling: the same writes as
 * raw set-based SQL in one transaction (its deferred checks run, then it is rolled back): the
 * investors' rows locked, the orders, their accounts created and locked, two ledger transactions
 * and four entries per order, the balances, the assets, the orders paid, the history rows, the
 * rules moved to the back of the queue, the loan and the allocation. The loan is large enough
 * that every rule gets its slice (RULES × 100,000 IDR is AUTO_INVEST_MAX_SHARE of it).
 * Runs alone too: `npx tsx scripts/bench-auto-invest.ts --rules 10000` (scratch database
 * p2p_bench_auto).
 */
import { Pool } from 'pg';
import type { Sequelize } from 'sequelize-typescript';
import { getConfig, type Config } from '../config';
import { createPartnerPort } from '../src/adapters/partner';
import type { PiiCipher } from '../src/lib/crypto';
import { createSequelize, withTransaction } from '../src/lib/db';
import { createMigrator } from '../src/lib/migrator';
import { piiCipher } from '../src/lib/model-columns';
import { Dec } from '../src/lib/money';
import { allocateLoan } from '../src/modules/auto-invest/allocation.service';
import {
  AccountType,
  investorAccount,
  platformAccount,
} from '../src/modules/ledger/ledger.accounts';
import { LedgerKind } from '../src/modules/ledger/ledger.kinds';
import { postTransaction } from '../src/modules/ledger/ledger.service';
import { seedDemoData } from '../src/seed';
import { scratchDatabase } from './scratch-db';

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const SLICE = 100_000n;

export interface AutoInvestFigures {
  orders: number;
  allocateSeconds: number;
  rawSeconds: number;
  setupSeconds: number;
}

/** Builds the investors, their rules and the loan, then times the allocation against raw. */
export async function benchAutoInvest(
  sequelize: Sequelize,
  raw: Pool,
  config: Readonly<Config>,
  cipher: PiiCipher,
  rules: number,
  run = 1,
): Promise<AutoInvestFigures> {
  const tag = `AUTO${run}`;
  const suffix = String(run % 100).padStart(2, '0');
  const tSetup = process.hrtime.bigint();
  const { rows: users } = await raw.query<{ id: string }>(
    `INSERT INTO users (role, kyc_status) SELECT 'investor', 'verified' FROM generate_series(1, ${rules})
     RETURNING id`,
  );
  const ids = users.map((u) => String(u.id));
  const nik = (i: number) => `3171${String(1_000_000_000 + i).slice(-10)}${suffix}`;
  const card = (i: number) => `455633${String(i).padStart(8, '0')}${suffix}`;
  await raw.query(
    `INSERT INTO kyc_verifications (user_id, real_name_encrypted, nik_encrypted, nik_hash, nik_last4, status)
     SELECT u, rn, ne, nh, nl, 'verified'
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(u, rn, ne, nh, nl)`,
    [
      ids,
      ids.map(() => cipher.encrypt('Bench Investor')),
      ids.map((_, i) => cipher.encrypt(nik(i))),
      ids.map((_, i) => cipher.lookupHash(nik(i))),
      ids.map((_, i) => nik(i).slice(-4)),
    ],
  );
  await raw.query(
    `INSERT INTO bank_cards (user_id, bank_code, card_encrypted, card_hash, card_last4, status)
     SELECT u, 'BCA', e, h, l, 'active' FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS v(u, e, h, l)`,
    [
      ids,
      ids.map((_, i) => cipher.encrypt(card(i))),
      ids.map((_, i) => cipher.lookupHash(card(i))),
      ids.map((_, i) => card(i).slice(-4)),
    ],
  );
  await withTransaction(sequelize, (transaction) =>
    postTransaction(
      {
        kind: LedgerKind.Recharge,
        idempotencyKey: `bench-auto-fund-${tag}`,
        entries: [
          { account: platformAccount(AccountType.Escrow), amount: -BigInt(rules) * SLICE * 10n },
          ...ids.map((u) => ({ account: investorAccount(u, 'available'), amount: SLICE * 10n })),
        ],
      },
      { transaction },
    ),
  );
  await raw.query(
    `INSERT INTO auto_invest_rules (user_id, status, amount_per_loan, repayment_methods, enabled_at)
     SELECT u, 'enabled', $2, ARRAY['bullet', 'monthly_interest', 'equal_installment'],
            now() + n * interval '1 millisecond'
       FROM unnest($1::bigint[]) WITH ORDINALITY AS v(u, n)`,
    [ids, SLICE.toString()],
  );
  // The loan: every rule's slice fits in its share.
  const share = new Dec(config.autoInvestMaxShare);
  const amount = BigInt(new Dec((BigInt(rules) * SLICE).toString()).div(share).ceil().toFixed(0));
  const {
    rows: [loan],
  } = await raw.query<{ id: string }>(
    `INSERT INTO loans (creditor_no, loan_purpose, risk_level, year_rate_fin, year_rate_loan, term, term_unit, repayment_method, amount, service_fee,
       published_at, deadline, borrower_id, bank_code, bank_name, bank_card_encrypted, bank_card_last4, bank_card_holder_encrypted, status)
     VALUES ($2, 'bench', 'A', 12, 18, 30, 'day', 'bullet', $1, 0, now(), now() + interval '6 hours', 'b', 'BCA', 'BCA', 'x', '1234', $3, 'open')
     RETURNING id`,
    [amount.toString(), tag, cipher.encrypt('Bench Borrower')],
  );
  await raw.query(
    `INSERT INTO auto_invest_allocations (loan_id, status, share_cap) VALUES ($1, 'pending', $2)`,
    [loan.id, (BigInt(rules) * SLICE).toString()],
  );
  await raw.query(
    'VACUUM ANALYZE users, auto_invest_rules, accounts, bank_cards, kyc_verifications',
  );
  const setupSeconds = seconds(tSetup);

  const tRaw = process.hrtime.bigint();
  const c = await raw.connect();
  await c.query('BEGIN');
  await c.query(`SELECT loan_id FROM auto_invest_allocations WHERE loan_id = $1 FOR UPDATE`, [
    loan.id,
  ]);
  await c.query('SELECT id FROM users WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE', [
    ids,
  ]);
  await c.query(
    `CREATE TEMP TABLE placed ON COMMIT DROP AS
     WITH o AS (
       INSERT INTO orders (user_id, loan_id, creditor_no, amount, pay_with, status, source, created_at, updated_at)
       SELECT r.user_id, $1, $2, r.amount_per_loan, 'wallet', 'pending', 'auto', now(), now()
         FROM auto_invest_rules r WHERE r.status = 'enabled'
        ORDER BY r.served_seq NULLS FIRST, r.enabled_at, r.user_id
       RETURNING id, user_id, amount)
     SELECT * FROM o`,
    [loan.id, tag],
  );
  await c.query(
    `INSERT INTO accounts (code, type, owner_user_id, allow_negative)
     SELECT 'investor:' || p.user_id || ':' || t.s, t.t, p.user_id, false
       FROM placed p CROSS JOIN (VALUES ('locked', $1), ('invested', $2)) AS t(s, t)
      ORDER BY 1 ON CONFLICT (code) DO NOTHING`,
    [AccountType.InvestorLocked, AccountType.InvestorInvested],
  );
  await c.query(
    `SELECT a.id FROM accounts a JOIN placed p ON a.owner_user_id = p.user_id ORDER BY a.id FOR NO KEY UPDATE OF a`,
  );
  await c.query(
    `CREATE TEMP TABLE txs ON COMMIT DROP AS
     WITH t AS (
       INSERT INTO ledger_transactions (kind, idempotency_key, entries_hash, metadata)
       SELECT k.kind, 'order:' || p.id || ':' || k.s, 'ceiling', jsonb_build_object('orderId', p.id::text)
         FROM placed p CROSS JOIN (VALUES ($1, 'lock'), ($2, 'paid')) AS k(kind, s)
       RETURNING id, idempotency_key)
     SELECT * FROM t`,
    [LedgerKind.PurchaseLock, LedgerKind.PurchasePaid],
  );
  await c.query(
    `INSERT INTO ledger_entries (transaction_id, account_id, amount, balance_after, memo)
     SELECT t.id, a.id, e.amount, e.after, e.memo
       FROM placed p
       CROSS JOIN LATERAL (VALUES ('lock', 'available', -p.amount, 1000000 - p.amount, NULL),
                                  ('lock', 'locked', p.amount, p.amount, NULL),
                                  ('paid', 'locked', -p.amount, 0, NULL),
                                  ('paid', 'invested', p.amount, p.amount, 'principal'))
                 AS e(s, acct, amount, after, memo)
       JOIN txs t ON t.idempotency_key = 'order:' || p.id || ':' || e.s
       JOIN accounts a ON a.code = 'investor:' || p.user_id || ':' || e.acct`,
  );
  await c.query(
    `UPDATE accounts a SET balance = a.balance + CASE WHEN a.type = $1 THEN -p.amount ELSE p.amount END,
            updated_at = now()
       FROM placed p WHERE a.owner_user_id = p.user_id AND a.type IN ($1, $2)`,
    [AccountType.InvestorAvailable, AccountType.InvestorInvested],
  );
  await c.query(
    `INSERT INTO assets (user_id, loan_id, order_id, principal, max_tradable_amount, trade_count, status)
     SELECT user_id, $1, id, amount, amount, 0, 'holding' FROM placed`,
    [loan.id],
  );
  await c.query(
    `UPDATE orders o SET status = 'paid', locked_at = now(), paid_at = now(), ended_at = now(), updated_at = now()
       FROM placed p WHERE o.id = p.id`,
  );
  await c.query(
    `INSERT INTO auto_invest_history (user_id, loan_id, amount, outcome, order_id, created_at)
     SELECT user_id, $1, amount, 'ordered', id, now() FROM placed`,
    [loan.id],
  );
  await c.query(
    `UPDATE auto_invest_rules r SET served_seq = s.seq, last_served_at = now(), updated_at = now()
       FROM (SELECT user_id, nextval('auto_invest_serve_seq') AS seq FROM placed ORDER BY id) s
      WHERE r.user_id = s.user_id`,
  );
  await c.query(
    `UPDATE loans SET bought_amount = bought_amount + (SELECT SUM(amount) FROM placed), updated_at = now()
      WHERE id = $1 AND status = 'open'`,
    [loan.id],
  );
  await c.query(
    `UPDATE auto_invest_allocations SET allocated = (SELECT SUM(amount) FROM placed), status = 'done',
            done_at = now(), passes = passes + 1 WHERE loan_id = $1`,
    [loan.id],
  );
  // The deferred checks (every ledger transaction balanced) run here, as at a COMMIT.
  await c.query('SET CONSTRAINTS ALL IMMEDIATE');
  await c.query('ROLLBACK');
  c.release();
  const rawSeconds = seconds(tRaw);
  await raw.query('VACUUM ANALYZE orders, accounts, ledger_entries, ledger_transactions, assets');

  const tAlloc = process.hrtime.bigint();
  const result = await allocateLoan(
    { cipher, partner: createPartnerPort(config), config },
    String(loan.id),
  );
  const allocateSeconds = seconds(tAlloc);
  if (result.orders !== rules)
    throw new Error(`allocation placed ${result.orders} orders for ${rules} rules`);
  return { orders: result.orders, allocateSeconds, rawSeconds, setupSeconds };
}

async function standalone() {
  const rules = Number(process.argv[process.argv.indexOf('--rules') + 1] || 10_000);
  const base = getConfig();
  const databaseUrl = await scratchDatabase(base.databaseUrl, 'p2p_bench_auto');
  const config = Object.freeze({ ...base, databaseUrl, investorLimitAmount: 10n ** 15n });
  const sequelize = createSequelize(databaseUrl);
  await createMigrator(sequelize).up();
  await seedDemoData(sequelize, config);
  const raw = new Pool({ connectionString: databaseUrl, max: 4 });
  for (let i = 1; i <= 3; i++) {
    const f = await benchAutoInvest(sequelize, raw, config, piiCipher(), rules, i);
    console.log(
      `auto-invest, one loan across ${rules} rules: ${f.allocateSeconds.toFixed(3)} s, raw ${f.rawSeconds.toFixed(3)} s, ratio ${((f.rawSeconds / f.allocateSeconds) * 100).toFixed(1)} % (${f.orders} orders; set-up ${f.setupSeconds.toFixed(1)} s)`,
    );
    await raw.query(`UPDATE auto_invest_rules SET status = 'disabled'`);
  }
  await raw.end();
  await sequelize.close();
}

if (require.main === module)
  standalone().catch((err) => {
    console.error(err);
    process.exit(1);
  });
