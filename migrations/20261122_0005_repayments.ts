import type { MigrationFn } from '../src/lib/migrator';

/** Repayments reported by the partner (seed item 14), confirmed in escrow, then cleared. */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    CREATE TABLE repayments (
      id                  BIGSERIAL PRIMARY KEY,
      repayment_no        TEXT NOT NULL UNIQUE,
      loan_id             BIGINT NOT NULL REFERENCES loans(id),
      creditor_no         TEXT NOT NULL,
      period              INTEGER NOT NULL CHECK (period >= 1),
      principal           BIGINT NOT NULL CHECK (principal >= 0),
      interest            BIGINT NOT NULL CHECK (interest >= 0),
      late_fee            BIGINT NOT NULL CHECK (late_fee >= 0),
      overdue_service_fee BIGINT NOT NULL CHECK (overdue_service_fee >= 0),
      total               BIGINT NOT NULL CHECK (total > 0),
      paid_at             TIMESTAMPTZ NOT NULL,
      body_hash           TEXT NOT NULL,
      status              TEXT NOT NULL CHECK (status IN ('reported', 'arrived', 'cleared', 'held')),
      hold_reason         TEXT,
      cleared_at          TIMESTAMPTZ,
      created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX repayments_loan_period_idx ON repayments (loan_id, period);
    ALTER TABLE repayment_schedules ADD COLUMN repayment_id BIGINT REFERENCES repayments(id);
  `);
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    ALTER TABLE repayment_schedules DROP COLUMN repayment_id;
    DROP TABLE repayments;
  `);
};
