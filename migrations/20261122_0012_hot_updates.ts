import type { MigrationFn } from '../src/lib/migrator';

/**
 * Room on every page for the rows that money moves rewrite often (investor balances, holders'
 * schedule rows, assets): with free space on the page and no indexed column changed, an UPDATE
 * is HOT (no index entry written). Applies to pages written from now on; a VACUUM FULL or
 * pg_repack in a quiet hour repacks the old ones.
 */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    ALTER TABLE accounts SET (fillfactor = 70);
    ALTER TABLE repayment_schedules SET (fillfactor = 80);
    ALTER TABLE assets SET (fillfactor = 80);
    ALTER TABLE loans SET (fillfactor = 80);
  `);
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    ALTER TABLE accounts RESET (fillfactor);
    ALTER TABLE repayment_schedules RESET (fillfactor);
    ALTER TABLE assets RESET (fillfactor);
    ALTER TABLE loans RESET (fillfactor);
  `);
};
