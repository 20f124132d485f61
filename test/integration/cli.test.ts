import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
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
    await testDb().query(`UPDATE accounts SET balance = balance + 1 WHERE code = 'escrow'`);
    try {
      const res = run(['scripts/finance.ts', 'ledger:check', '--operator', 'test']);
      expect(res.status).to.equal(2);
      expect(res.stdout).to.match(/escrow\s+cached/);
      expect(res.stdout).to.contain('LEDGER MISMATCH');
    } finally {
      await testDb().query(`UPDATE accounts SET balance = balance - 1 WHERE code = 'escrow'`);
    }
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
