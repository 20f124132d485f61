import type { MigrationFn } from '../src/lib/migrator';

/**
 * Purchases at the database's speed. Platform accounts (escrow, clearing, borrower payable,
 * super investor, revenues) keep no cached balance: no posting locks or updates their row, and
 * their balance is the sum of their entries (index-only, through the covering index below).
 * Investor accounts keep theirs, locked in id order by every posting.
 */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    UPDATE accounts SET balance = 0 WHERE owner_user_id IS NULL;
    ALTER TABLE accounts ADD CONSTRAINT accounts_platform_derived
      CHECK (owner_user_id IS NOT NULL OR balance = 0);
    ALTER TABLE ledger_entries ALTER COLUMN balance_after DROP NOT NULL;
    CREATE INDEX ledger_entries_account_amount_idx ON ledger_entries (account_id, id) INCLUDE (amount);
    DROP INDEX ledger_entries_account_idx;
  `);
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, id);
    DROP INDEX ledger_entries_account_amount_idx;
    ALTER TABLE accounts DROP CONSTRAINT accounts_platform_derived;
    UPDATE accounts a SET balance = COALESCE((SELECT SUM(amount) FROM ledger_entries e WHERE e.account_id = a.id), 0)
     WHERE owner_user_id IS NULL;
  `);
};
