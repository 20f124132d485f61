import type { MigrationFn } from '../src/lib/migrator';

/**
 * A credit note's state becomes one status column (open, sold_out, cancelled, expired,
 * withdrawn) with its transition table in credit-note.states.ts, in place of the is_closed /
 * is_cancelled pair. Existing rows are read from the pair: cancelled first, then sold out (all
 * traded), then expired (closed at or after its end time), else withdrawn (closed because a
 * repayment left the asset holding less than the note offered). The API keeps `isClosed` and
 * `isCancelled`, now read from the status.
 */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.transaction(async (transaction) => {
    const q = (sql: string) => sequelize.query(sql, { transaction });
    await q(`ALTER TABLE credit_notes ADD COLUMN status TEXT`);
    await q(`UPDATE credit_notes SET status = CASE
               WHEN NOT is_closed THEN 'open'
               WHEN is_cancelled THEN 'cancelled'
               WHEN traded_amount = amount THEN 'sold_out'
               WHEN closed_at IS NOT NULL AND closed_at >= end_time THEN 'expired'
               ELSE 'withdrawn' END`);
    await q(`ALTER TABLE credit_notes
               ALTER COLUMN status SET NOT NULL,
               ALTER COLUMN status SET DEFAULT 'open',
               ADD CONSTRAINT credit_notes_status_check
                 CHECK (status IN ('open', 'sold_out', 'cancelled', 'expired', 'withdrawn'))`);
    await q(`DROP INDEX IF EXISTS credit_notes_open_idx`);
    await q(`DROP INDEX IF EXISTS credit_notes_loan_open_idx`);
    await q(`ALTER TABLE credit_notes DROP COLUMN is_closed, DROP COLUMN is_cancelled`);
    await q(`CREATE INDEX credit_notes_open_idx ON credit_notes (end_time) WHERE status = 'open'`);
    await q(
      `CREATE INDEX credit_notes_loan_open_idx ON credit_notes (loan_id) WHERE status = 'open'`,
    );
  });
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.transaction(async (transaction) => {
    const q = (sql: string) => sequelize.query(sql, { transaction });
    await q(`ALTER TABLE credit_notes
               ADD COLUMN is_closed BOOLEAN NOT NULL DEFAULT false,
               ADD COLUMN is_cancelled BOOLEAN NOT NULL DEFAULT false`);
    await q(
      `UPDATE credit_notes SET is_closed = status <> 'open', is_cancelled = status = 'cancelled'`,
    );
    await q(`DROP INDEX IF EXISTS credit_notes_open_idx`);
    await q(`DROP INDEX IF EXISTS credit_notes_loan_open_idx`);
    await q(`ALTER TABLE credit_notes DROP COLUMN status`);
    await q(`CREATE INDEX credit_notes_open_idx ON credit_notes (end_time) WHERE NOT is_closed`);
    await q(
      `CREATE INDEX credit_notes_loan_open_idx ON credit_notes (loan_id) WHERE NOT is_closed`,
    );
  });
};
