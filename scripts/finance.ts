/**
 * Finance CLI: `npm run finance -- <command> [options]`.
 *   ledger:check   trial balance per account type, every account whose cached balance differs
 *                  from the sum of its entries, every unbalanced transaction; exit 2 on any.
 *   outbox:pending rows committed but not yet handed to BullMQ (the relay's backlog).
 */
import os from 'node:os';
import { Command } from 'commander';
import { getConfig } from '../config';
import { createSequelize } from '../src/lib/db';
import { createLogger } from '../src/lib/logger';
import { checkLedger } from '../src/modules/ledger/ledger.service';
import { countPendingOutbox } from '../src/modules/outbox/outbox.service';

const config = getConfig();
const logger = createLogger({ name: 'finance', level: 'warn' });

async function withDb<T>(fn: () => Promise<T>): Promise<T> {
  const sequelize = createSequelize(config.databaseUrl, { poolMax: 2 });
  try {
    return await fn();
  } finally {
    await sequelize.close();
  }
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (v: bigint) => v.toLocaleString('en-US');

const program = new Command()
  .name('finance')
  .description('finance operations: ledger checks, retries, reconciliation')
  .option('--operator <name>', 'who runs this (recorded with every action)', os.userInfo().username)
  .option('--json', 'print JSON instead of a table');

program
  .command('ledger:check')
  .description('trial balance and cached-balance check; exits 2 on any mismatch')
  .action(async () => {
    const { operator, json } = program.opts<{ operator: string; json?: boolean }>();
    logger.warn({ operator, action: 'ledger:check' }, 'finance action');
    const r = await withDb(() => checkLedger());
    if (json) {
      console.log(JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
    } else {
      console.log('Trial balance by account type');
      console.log(`  ${pad('type', 24)} ${pad('accounts', 9)} balance`);
      for (const t of r.byType)
        console.log(`  ${pad(t.type, 24)} ${pad(String(t.accounts), 9)} ${num(t.balance)}`);
      console.log(`  ${pad('TOTAL (entries)', 34)} ${num(r.trialBalance)}`);
      console.log(`  ${pad('TOTAL (cached balances)', 34)} ${num(r.cachedTotal)}`);
      if (r.mismatches.length) {
        console.log('\nAccounts whose cached balance differs from the sum of their entries:');
        for (const m of r.mismatches)
          console.log(`  ${pad(m.code, 40)} cached ${num(m.cached)}  entries ${num(m.computed)}`);
      }
      if (r.unbalancedTransactions.length) {
        console.log('\nUnbalanced ledger transactions:');
        for (const u of r.unbalancedTransactions)
          console.log(`  ${pad(u.idempotencyKey, 40)} sum ${num(u.sum)}`);
      }
      console.log(r.ok ? '\nledger OK' : '\nLEDGER MISMATCH');
    }
    process.exitCode = r.ok ? 0 : 2;
  });

program
  .command('outbox:pending')
  .description('how many committed outbox rows are not yet relayed')
  .action(async () => {
    const n = await withDb(() => countPendingOutbox());
    console.log(`${n} outbox row(s) pending`);
  });

program.parseAsync().catch((err: Error) => {
  console.error(`finance: ${err.message}`);
  process.exit(1);
});
