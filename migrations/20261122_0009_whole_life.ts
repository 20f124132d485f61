import type { MigrationFn } from '../src/lib/migrator';

/**
 * A loan's whole life: the repayment plan fixed at disbursement, assets that shrink with every
 * repayment, early payoff, notes that reserve what orders in flight take, gateway results that
 * contradict each other (a payout decline waits for confirmation; an amount mismatch is held),
 * repayments that failed or are returned, and the indexes the recovery sweepers read.
 */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    CREATE TABLE repayment_plans (
      id           BIGSERIAL PRIMARY KEY,
      loan_id      BIGINT NOT NULL REFERENCES loans(id),
      period       INTEGER NOT NULL CHECK (period >= 1),
      due_date     DATE NOT NULL,
      principal    BIGINT NOT NULL CHECK (principal >= 0),
      interest     BIGINT NOT NULL CHECK (interest >= 0),
      status       TEXT NOT NULL CHECK (status IN ('pending', 'paid')),
      repayment_id BIGINT REFERENCES repayments(id),
      paid_at      TIMESTAMPTZ,
      created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT repayment_plans_loan_period_uq UNIQUE (loan_id, period)
    );
    -- Loans disbursed before the plan existed: their plan is what their holders' rows add up to.
    INSERT INTO repayment_plans (loan_id, period, due_date, principal, interest, status, paid_at)
    SELECT loan_id, period, MIN(due_date), SUM(principal), SUM(interest),
           CASE WHEN bool_and(status = 'paid') THEN 'paid' ELSE 'pending' END, MAX(paid_at)
      FROM repayment_schedules GROUP BY loan_id, period;

    -- An asset's principal is what it still holds: the unpaid rows of a disbursed loan.
    UPDATE assets a SET principal = s.unpaid,
           max_tradable_amount = LEAST(a.max_tradable_amount, s.unpaid),
           status = CASE WHEN s.unpaid = 0 AND a.status = 'holding' THEN 'repaid' ELSE a.status END
      FROM (SELECT asset_id, COALESCE(SUM(principal) FILTER (WHERE status = 'pending'), 0) AS unpaid
              FROM repayment_schedules GROUP BY asset_id) s
     WHERE s.asset_id = a.id;
    ALTER TABLE assets ADD CONSTRAINT assets_tradable_within_held CHECK (max_tradable_amount <= principal);

    ALTER TABLE repayments
      ADD COLUMN payoff BOOLEAN NOT NULL DEFAULT false,
      ADD COLUMN hold_code TEXT,
      DROP CONSTRAINT repayments_status_check,
      ADD CONSTRAINT repayments_status_check
        CHECK (status IN ('reported', 'arrived', 'failed', 'cleared', 'held', 'returning', 'returned'));
    UPDATE repayments SET status = 'failed' WHERE status = 'held' AND hold_reason NOT LIKE 'schedule:%';
    CREATE INDEX repayments_waiting_idx ON repayments (updated_at) WHERE status IN ('arrived', 'held');

    ALTER TABLE credit_notes
      ADD COLUMN reserved_amount BIGINT NOT NULL DEFAULT 0 CHECK (reserved_amount >= 0),
      DROP CONSTRAINT credit_notes_no_overbuy,
      ADD CONSTRAINT credit_notes_no_overbuy CHECK (traded_amount + reserved_amount <= amount);
    CREATE INDEX credit_notes_loan_open_idx ON credit_notes (loan_id) WHERE NOT is_closed;

    ALTER TABLE credit_orders
      ADD COLUMN reserved BOOLEAN NOT NULL DEFAULT false,
      ADD COLUMN period INTEGER;

    ALTER TABLE payment_instructions
      DROP CONSTRAINT payment_instructions_status_check,
      ADD CONSTRAINT payment_instructions_status_check
        CHECK (status IN ('created', 'submitted', 'unknown', 'declined', 'succeeded', 'failed', 'held')),
      DROP CONSTRAINT payment_instructions_purpose_check,
      ADD CONSTRAINT payment_instructions_purpose_check
        CHECK (purpose IN ('order', 'recharge', 'withdrawal', 'refund', 'disbursement', 'repayment',
                           'transfer', 'transfer_reversal', 'repayment_return'));
    DROP INDEX payment_instructions_unresolved_idx;
    CREATE INDEX payment_instructions_unresolved_idx ON payment_instructions (next_query_at)
      WHERE status IN ('submitted', 'unknown', 'declined');
    -- What the last result did ("not applied: …" is for finance), and finance's acknowledgement.
    ALTER TABLE payment_instructions
      ADD COLUMN outcome TEXT,
      ADD COLUMN acknowledged_at TIMESTAMPTZ,
      ADD COLUMN acknowledged_by TEXT;
    ALTER TABLE gateway_callbacks
      ADD COLUMN acknowledged_at TIMESTAMPTZ,
      ADD COLUMN acknowledged_by TEXT;

    CREATE INDEX gateway_callbacks_unprocessed_idx ON gateway_callbacks (id) WHERE processed_at IS NULL;
    CREATE INDEX orders_pending_idx ON orders (created_at) WHERE status = 'pending';
    CREATE INDEX orders_lock_expiry_idx ON orders (lock_expires_at) WHERE holds_lock;
    CREATE INDEX loans_borrower_unfetched_idx ON loans (created_at) WHERE borrower_fetched_at IS NULL;
    CREATE INDEX loans_settling_idx ON loans (updated_at) WHERE status IN ('settling', 'full');
  `);
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    DROP INDEX loans_settling_idx;
    DROP INDEX loans_borrower_unfetched_idx;
    DROP INDEX orders_lock_expiry_idx;
    DROP INDEX orders_pending_idx;
    DROP INDEX gateway_callbacks_unprocessed_idx;
    ALTER TABLE gateway_callbacks DROP COLUMN acknowledged_by, DROP COLUMN acknowledged_at;
    ALTER TABLE payment_instructions
      DROP COLUMN acknowledged_by, DROP COLUMN acknowledged_at, DROP COLUMN outcome;
    DROP INDEX payment_instructions_unresolved_idx;
    CREATE INDEX payment_instructions_unresolved_idx ON payment_instructions (next_query_at)
      WHERE status IN ('submitted', 'unknown');
    UPDATE payment_instructions SET status = 'failed' WHERE status IN ('declined', 'held');
    DELETE FROM payment_instructions WHERE purpose IN ('transfer_reversal', 'repayment_return');
    ALTER TABLE payment_instructions
      DROP CONSTRAINT payment_instructions_purpose_check,
      ADD CONSTRAINT payment_instructions_purpose_check
        CHECK (purpose IN ('order', 'recharge', 'withdrawal', 'refund', 'disbursement', 'repayment', 'transfer')),
      DROP CONSTRAINT payment_instructions_status_check,
      ADD CONSTRAINT payment_instructions_status_check
        CHECK (status IN ('created', 'submitted', 'succeeded', 'failed', 'unknown'));
    ALTER TABLE credit_orders DROP COLUMN period, DROP COLUMN reserved;
    DROP INDEX credit_notes_loan_open_idx;
    ALTER TABLE credit_notes
      DROP CONSTRAINT credit_notes_no_overbuy,
      DROP COLUMN reserved_amount,
      ADD CONSTRAINT credit_notes_no_overbuy CHECK (traded_amount <= amount);
    DROP INDEX repayments_waiting_idx;
    UPDATE repayments SET status = 'held' WHERE status IN ('failed', 'returning', 'returned');
    ALTER TABLE repayments
      DROP CONSTRAINT repayments_status_check,
      ADD CONSTRAINT repayments_status_check CHECK (status IN ('reported', 'arrived', 'cleared', 'held')),
      DROP COLUMN hold_code,
      DROP COLUMN payoff;
    ALTER TABLE assets DROP CONSTRAINT assets_tradable_within_held;
    DROP TABLE repayment_plans;
  `);
};
