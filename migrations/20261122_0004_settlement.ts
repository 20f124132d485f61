import type { MigrationFn } from '../src/lib/migrator';

/**
 * Primary market, part 2 (first half): repayment schedules, partner notifications (an outbox
 * of their own, retried until delivered), and several attempts per instruction purpose (a failed
 * disbursement is retried with a new instruction).
 */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    CREATE TABLE repayment_schedules (
      id         BIGSERIAL PRIMARY KEY,
      asset_id   BIGINT NOT NULL REFERENCES assets(id),
      loan_id    BIGINT NOT NULL REFERENCES loans(id),
      user_id    BIGINT NOT NULL REFERENCES users(id),
      period     INTEGER NOT NULL CHECK (period >= 1),
      due_date   DATE NOT NULL,
      principal  BIGINT NOT NULL CHECK (principal >= 0),
      interest   BIGINT NOT NULL CHECK (interest >= 0),
      status     TEXT NOT NULL CHECK (status IN ('pending', 'paid')),
      paid_at    TIMESTAMPTZ,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT repayment_schedules_asset_period_uq UNIQUE (asset_id, period)
    );
    CREATE INDEX repayment_schedules_loan_period_idx ON repayment_schedules (loan_id, period);
    CREATE INDEX repayment_schedules_user_idx ON repayment_schedules (user_id, due_date);

    CREATE TABLE partner_notifications (
      id           BIGSERIAL PRIMARY KEY,
      event        TEXT NOT NULL,
      creditor_no  TEXT NOT NULL,
      dedupe_key   TEXT NOT NULL UNIQUE,
      payload      JSONB NOT NULL,
      status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered')),
      attempts     INTEGER NOT NULL DEFAULT 0,
      last_error   TEXT,
      delivered_at TIMESTAMPTZ,
      created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX partner_notifications_pending_idx ON partner_notifications (id) WHERE status = 'pending';

    ALTER TABLE payment_instructions ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE payment_instructions DROP CONSTRAINT payment_instructions_ref_uq;
    ALTER TABLE payment_instructions ADD CONSTRAINT payment_instructions_ref_uq UNIQUE (purpose, ref_id, kind, attempt);
  `);
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    ALTER TABLE payment_instructions DROP CONSTRAINT payment_instructions_ref_uq;
    ALTER TABLE payment_instructions ADD CONSTRAINT payment_instructions_ref_uq UNIQUE (purpose, ref_id, kind);
    ALTER TABLE payment_instructions DROP COLUMN attempt;
    DROP TABLE partner_notifications;
    DROP TABLE repayment_schedules;
  `);
};
