import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { piiCipher } from '../../src/lib/model-columns';
import { Sequelize } from 'sequelize-typescript';
import { Client } from 'pg';
import { createMigrator } from '../../src/lib/migrator';
import { testDb } from '../helpers/context';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(TSX, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('finance CLI: ledger:check', function () {
  this.timeout(60_000);

  it('when the ledger is sound, then it prints the trial balance and exits 0', () => {
    const res = run(['scripts/finance.ts', 'ledger:check']);
    expect(res.stdout).to.contain('Trial balance by account type');
    expect(res.stdout).to.contain('ledger OK');
    expect(res.status).to.equal(0);
  });

  it('when a cached balance differs from its entries, then it names the account and exits non-zero', async () => {
    // Investor accounts keep a cached balance (platform accounts derive theirs from entries).
    const [[account]] = (await testDb().query(
      `SELECT code FROM accounts WHERE owner_user_id IS NOT NULL ORDER BY id LIMIT 1`,
    )) as [{ code: string }[], unknown];
    await testDb().query(`UPDATE accounts SET balance = balance + 1 WHERE code = $1`, {
      bind: [account.code],
    });
    try {
      const res = run(['scripts/finance.ts', 'ledger:check', '--operator', 'test']);
      expect(res.status).to.equal(2);
      expect(res.stdout).to.match(new RegExp(`${account.code}\\s+cached`));
      expect(res.stdout).to.contain('LEDGER MISMATCH');
    } finally {
      await testDb().query(`UPDATE accounts SET balance = balance - 1 WHERE code = $1`, {
        bind: [account.code],
      });
    }
  });

  it('when a platform account is given a cached balance, then the database refuses it', async () => {
    let refused = false;
    await testDb()
      .query(`UPDATE accounts SET balance = balance + 1 WHERE code = 'escrow'`)
      .catch(() => (refused = true));
    expect(refused).to.equal(true);
  });
});

describe('finance CLI: operations', function () {
  this.timeout(60_000);

  const reconcileLoan = (creditorNo: string, operator: string) =>
    run(['scripts/finance.ts', 'reconcile', '--loan', creditorNo, '--operator', operator]);

  /** A loan row straight in the database (open, `bought` already sold). */
  async function insertLoan(bought: number): Promise<{ id: string; creditor_no: string }> {
    const [[loan]] = (await testDb().query(
      `INSERT INTO loans (creditor_no, loan_purpose, risk_level, year_rate_fin, year_rate_loan, term, term_unit, repayment_method, amount, service_fee,
         published_at, deadline, borrower_id, bank_code, bank_name, bank_card_encrypted, bank_card_last4, bank_card_holder_encrypted, status, bought_amount)
       VALUES ('CLI-' || floor(random() * 1e9)::text, 'x', 'A', 10, 12, 30, 'day', 'bullet', 1000000, 0, now(), now(), 'b', 'BCA', 'BCA', 'x', '0000', $1, 'open', $2)
       RETURNING id, creditor_no`,
      { bind: [piiCipher().encrypt('CLI Borrower'), bought] },
    )) as [{ id: string; creditor_no: string }[], unknown];
    return loan;
  }

  // Scoped to a loan of this file: the whole database may hold what other files left waiting
  // for finance on purpose (a held repayment, a failed disbursement), which is not a mismatch.
  it('when reconcile runs on a sound loan, then it says so, exits 0 and records the operator', async () => {
    const loan = await insertLoan(0);
    try {
      const res = reconcileLoan(loan.creditor_no, 'alice');
      expect(res.stdout, res.stderr).to.contain('reconciled: no mismatch');
      expect(res.status).to.equal(0);
    } finally {
      await testDb().query('DELETE FROM loans WHERE id = $1', { bind: [loan.id] });
    }
    const [rows] = (await testDb().query(
      `SELECT operator, action FROM ops_audit WHERE operator = 'alice' ORDER BY id DESC LIMIT 1`,
    )) as [{ operator: string; action: string }[], unknown];
    expect(rows[0]).to.deep.equal({ operator: 'alice', action: 'reconcile' });
  });

  it('when a paid order has no asset, then reconcile lists it and exits 2', async () => {
    const [[user]] = (await testDb().query(
      `INSERT INTO users (role) VALUES ('investor') RETURNING id`,
    )) as [{ id: string }[], unknown];
    const loan = await insertLoan(100_000);
    const [[order]] = (await testDb().query(
      `INSERT INTO orders (user_id, loan_id, creditor_no, amount, pay_with, status) VALUES ($1, $2, 'x', 100000, 'wallet', 'paid') RETURNING id`,
      {
        bind: [user.id, loan.id],
      },
    )) as [{ id: string }[], unknown];
    try {
      const res = reconcileLoan(loan.creditor_no, 'bob');
      expect(res.status).to.equal(2);
      expect(res.stdout).to.match(new RegExp(`order.paid_without_asset\\s+order ${order.id}`));
    } finally {
      await testDb().query('DELETE FROM orders WHERE id = $1', { bind: [order.id] });
      await testDb().query('DELETE FROM loans WHERE id = $1', { bind: [loan.id] });
    }
  });

  it('when a command names what does not exist, then it says so and exits 1', () => {
    for (const args of [
      ['order:requeue', '999999999'],
      ['instruction:query', '999999999'],
      ['disbursement:retry', 'NOPE'],
      ['jobs:retry', 'no-such-queue', '1'],
      ['credit-order:retry', '999999999'],
      ['credit-order:requeue', '999999999'],
    ]) {
      const res = run(['scripts/finance.ts', ...args, '--operator', 'carol']);
      expect(res.status, args.join(' ')).to.be.oneOf([1]);
    }
  });

  it('when abnormal credit orders are listed on a quiet database, then none is found', () => {
    const res = run(['scripts/finance.ts', 'credit-orders:abnormal', '--operator', 'erin']);
    expect(res.status).to.equal(0);
    expect(res.stdout).to.contain('no abnormal credit order');
  });

  it('when failed jobs are listed, then every queue is reported', () => {
    const res = run(['scripts/finance.ts', 'jobs:failed', '--operator', 'dave']);
    expect(res.status).to.equal(0);
    for (const q of ['maintenance', 'investors', 'loans', 'orders', 'payments'])
      expect(res.stdout).to.contain(`${q}:`);
  });
});

describe('migrations', function () {
  this.timeout(60_000);
  const name = 'p2p_test_migrations';
  const admin = () =>
    new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });

  it('when migrated up, down to zero and up again, then the schema appears, disappears and reappears', async () => {
    const c = admin();
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
    const db = new Sequelize(`postgres://postgres@127.0.0.1:5432/${name}`, {
      dialect: 'postgres',
      logging: false,
    });
    const tables = async () =>
      (
        (
          await db.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
        )[0] as { tablename: string }[]
      ).map((r) => r.tablename);
    try {
      const migrator = createMigrator(db);
      await migrator.up();
      expect(await tables()).to.include.members([
        'accounts',
        'ledger_entries',
        'ledger_transactions',
        'outbox',
        'users',
        'banks',
      ]);
      await migrator.down({ to: 0 });
      expect(await tables()).to.deep.equal(['schema_migrations']);
      await migrator.up();
      expect(await migrator.pending()).to.deep.equal([]);
    } finally {
      await db.close();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    }
  });
});

describe('process lifecycle', function () {
  this.timeout(60_000);

  for (const [label, entry, env] of [
    ['worker', 'jobs/worker.ts', {}],
    ['web', 'src/server.ts', { PORT: String(40_000 + (process.pid % 20_000)) }],
    ['scheduler', 'jobs/scheduler.ts', {}],
  ] as const) {
    it(`when the ${label} gets SIGTERM, then it stops cleanly with exit code 0`, async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...env,
          LOG_LEVEL: 'info',
          LOG_FORMAT: 'json',
          QUEUE_PREFIX: `t-life-${label}-${process.pid}`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      child.stderr.on('data', (d) => (out += String(d)));
      const exited = new Promise<number | null>((resolve) =>
        child.on('exit', (code) => resolve(code)),
      );
      const end = Date.now() + 30_000;
      while (!/(worker started|web listening|scheduler started)/.test(out)) {
        if (Date.now() > end) {
          child.kill('SIGKILL');
          throw new Error(`${label} did not start:\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
      expect(out).to.contain('stopped cleanly');
    });
  }
});
