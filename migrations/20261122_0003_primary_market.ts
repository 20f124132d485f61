import type { MigrationFn } from '../src/lib/migrator';

/**
 * Primary market, part 1: the partner's original loan records, loans (散标), borrowers, purchase
 * orders, assets, gateway payment instructions and callbacks, recharges and withdrawals.
 */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    CREATE TABLE loan_originals (
      id           BIGSERIAL PRIMARY KEY,
      creditor_no  TEXT NOT NULL UNIQUE,
      body         JSONB NOT NULL,
      body_hash    TEXT NOT NULL,
      received_at  TIMESTAMPTZ NOT NULL DEFAULT now()
    );

    CREATE TABLE loans (
      id                  BIGSERIAL PRIMARY KEY,
      creditor_no         TEXT NOT NULL UNIQUE,
      loan_purpose        TEXT NOT NULL,
      risk_level          TEXT NOT NULL,
      year_rate_fin       NUMERIC(9,4) NOT NULL CHECK (year_rate_fin >= 0),
      year_rate_loan      NUMERIC(9,4) NOT NULL CHECK (year_rate_loan >= 0),
      term                INTEGER NOT NULL CHECK (term > 0),
      term_unit           TEXT NOT NULL CHECK (term_unit IN ('day', 'month')),
      repayment_method    TEXT NOT NULL CHECK (repayment_method IN ('bullet', 'monthly_interest', 'equal_installment')),
      amount              BIGINT NOT NULL CHECK (amount > 0),
      service_fee         BIGINT NOT NULL CHECK (service_fee >= 0 AND service_fee < amount),
      published_at        TIMESTAMPTZ NOT NULL,
      deadline            TIMESTAMPTZ NOT NULL,
      borrower_id         TEXT NOT NULL,
      bank_code           TEXT NOT NULL,
      bank_name           TEXT NOT NULL,
      bank_card_encrypted TEXT NOT NULL,
      bank_card_last4     TEXT NOT NULL,
      bank_card_holder    TEXT NOT NULL,
      source              TEXT NOT NULL DEFAULT 'doit',
      status              TEXT NOT NULL CHECK (status IN ('open', 'settling', 'failed', 'full', 'disbursing',
                            'disburse_failed', 'repaying', 'overdue', 'repaid')),
      locked_amount       BIGINT NOT NULL DEFAULT 0 CHECK (locked_amount >= 0),
      bought_amount       BIGINT NOT NULL DEFAULT 0 CHECK (bought_amount >= 0),
      loan_time           TIMESTAMPTZ,
      due_time            TIMESTAMPTZ,
      repaid_at           TIMESTAMPTZ,
      late_fee            BIGINT NOT NULL DEFAULT 0,
      overdue_service_fee BIGINT NOT NULL DEFAULT 0,
      interest            BIGINT NOT NULL DEFAULT 0,
      borrower_fetched_at TIMESTAMPTZ,
      created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
      -- Never oversold, whatever the concurrency.
      CONSTRAINT loans_no_oversell CHECK (locked_amount + bought_amount <= amount)
    );
    -- The open-loan list filters and sorts on these (status first: the list shows open loans).
    CREATE INDEX loans_status_rate_idx ON loans (status, year_rate_fin, id);
    CREATE INDEX loans_status_amount_idx ON loans (status, amount, id);
    CREATE INDEX loans_status_term_idx ON loans (status, term_unit, term, id);
    CREATE INDEX loans_status_published_idx ON loans (status, published_at DESC, id);
    CREATE INDEX loans_open_deadline_idx ON loans (deadline) WHERE status = 'open';

    CREATE TABLE borrowers (
      id                BIGSERIAL PRIMARY KEY,
      borrower_id       TEXT NOT NULL UNIQUE,
      pii_encrypted     TEXT NOT NULL,
      sex               TEXT,
      age               INTEGER,
      education         TEXT,
      identity          TEXT,
      religion          TEXT,
      is_married        BOOLEAN,
      id_verified       BOOLEAN NOT NULL DEFAULT false,
      bank_verified     BOOLEAN NOT NULL DEFAULT false,
      contacts_verified BOOLEAN NOT NULL DEFAULT false,
      insurance_verified BOOLEAN NOT NULL DEFAULT false,
      family_verified   BOOLEAN NOT NULL DEFAULT false,
      fetched_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
      created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
    );

    CREATE TABLE orders (
      id               BIGSERIAL PRIMARY KEY,
      user_id          BIGINT NOT NULL REFERENCES users(id),
      loan_id          BIGINT NOT NULL REFERENCES loans(id),
      creditor_no      TEXT NOT NULL,
      amount           BIGINT NOT NULL CHECK (amount > 0),
      pay_with         TEXT NOT NULL CHECK (pay_with IN ('card', 'wallet')),
      status           TEXT NOT NULL CHECK (status IN ('pending', 'locked', 'paying', 'paid', 'failed', 'expired',
                         'rejected', 'refunding', 'refunded')),
      fail_code        TEXT,
      fail_reason      TEXT,
      idempotency_key  TEXT,
      request_hash     TEXT,
      lock_expires_at  TIMESTAMPTZ,
      locked_at        TIMESTAMPTZ,
      paid_at          TIMESTAMPTZ,
      ended_at         TIMESTAMPTZ,
      -- Whether this order's amount currently sits in loans.locked_amount (released exactly once).
      holds_lock       BOOLEAN NOT NULL DEFAULT false,
      created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT orders_idempotency_uq UNIQUE (user_id, idempotency_key)
    );
    CREATE INDEX orders_user_created_idx ON orders (user_id, created_at DESC);
    CREATE INDEX orders_loan_status_idx ON orders (loan_id, status);
    CREATE INDEX orders_holding_lock_idx ON orders (loan_id) WHERE holds_lock;

    CREATE TABLE assets (
      id                  BIGSERIAL PRIMARY KEY,
      user_id             BIGINT NOT NULL REFERENCES users(id),
      loan_id             BIGINT NOT NULL REFERENCES loans(id),
      order_id            BIGINT UNIQUE REFERENCES orders(id),
      principal           BIGINT NOT NULL CHECK (principal >= 0),
      max_tradable_amount BIGINT NOT NULL CHECK (max_tradable_amount >= 0),
      trade_count         INTEGER NOT NULL DEFAULT 0,
      status              TEXT NOT NULL CHECK (status IN ('holding', 'repaid', 'transferred')),
      created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX assets_user_idx ON assets (user_id, created_at DESC);
    CREATE INDEX assets_loan_idx ON assets (loan_id);

    CREATE TABLE payment_instructions (
      id              BIGSERIAL PRIMARY KEY,
      kind            TEXT NOT NULL CHECK (kind IN ('collection', 'payout', 'custody_transfer')),
      purpose         TEXT NOT NULL CHECK (purpose IN ('order', 'recharge', 'withdrawal', 'refund', 'disbursement',
                        'repayment', 'transfer')),
      ref_id          BIGINT NOT NULL,
      user_id         BIGINT REFERENCES users(id),
      amount          BIGINT NOT NULL CHECK (amount > 0),
      bank_card_id    BIGINT REFERENCES bank_cards(id),
      status          TEXT NOT NULL CHECK (status IN ('created', 'submitted', 'succeeded', 'failed', 'unknown')),
      gateway_txn_id  TEXT,
      fail_reason     TEXT,
      submit_attempts INTEGER NOT NULL DEFAULT 0,
      query_attempts  INTEGER NOT NULL DEFAULT 0,
      submitted_at    TIMESTAMPTZ,
      resolved_at     TIMESTAMPTZ,
      next_query_at   TIMESTAMPTZ,
      created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT payment_instructions_ref_uq UNIQUE (purpose, ref_id, kind)
    );
    CREATE INDEX payment_instructions_unresolved_idx ON payment_instructions (next_query_at)
      WHERE status IN ('submitted', 'unknown');

    CREATE TABLE gateway_callbacks (
      id             BIGSERIAL PRIMARY KEY,
      instruction_id BIGINT NOT NULL,
      gateway_txn_id TEXT,
      status         TEXT NOT NULL,
      amount         BIGINT NOT NULL,
      fail_reason    TEXT,
      raw_body       TEXT NOT NULL,
      signature      TEXT NOT NULL,
      received_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
      processed_at   TIMESTAMPTZ,
      outcome        TEXT
    );
    CREATE INDEX gateway_callbacks_instruction_idx ON gateway_callbacks (instruction_id, id);
    -- A replayed request (same signature) is stored once.
    CREATE UNIQUE INDEX gateway_callbacks_signature_uq ON gateway_callbacks (signature);

    CREATE TABLE recharges (
      id              BIGSERIAL PRIMARY KEY,
      user_id         BIGINT NOT NULL REFERENCES users(id),
      amount          BIGINT NOT NULL CHECK (amount > 0),
      status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
      fail_reason     TEXT,
      idempotency_key TEXT,
      request_hash    TEXT,
      created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT recharges_idempotency_uq UNIQUE (user_id, idempotency_key)
    );

    CREATE TABLE withdrawals (
      id              BIGSERIAL PRIMARY KEY,
      user_id         BIGINT NOT NULL REFERENCES users(id),
      amount          BIGINT NOT NULL CHECK (amount > 0),
      status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
      fail_reason     TEXT,
      idempotency_key TEXT,
      request_hash    TEXT,
      created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT withdrawals_idempotency_uq UNIQUE (user_id, idempotency_key)
    );
  `);
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    DROP TABLE withdrawals;
    DROP TABLE recharges;
    DROP TABLE gateway_callbacks;
    DROP TABLE payment_instructions;
    DROP TABLE assets;
    DROP TABLE orders;
    DROP TABLE borrowers;
    DROP TABLE loans;
    DROP TABLE loan_originals;
  `);
};
