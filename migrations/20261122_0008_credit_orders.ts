import type { MigrationFn } from '../src/lib/migrator';

/** Secondary market orders (seed 003 credit_order): a buyer takes part of a note. */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    CREATE TABLE credit_orders (
      id                   BIGSERIAL PRIMARY KEY,
      note_id              BIGINT NOT NULL REFERENCES credit_notes(id),
      seller_asset_id      BIGINT NOT NULL REFERENCES assets(id),
      buyer_asset_id       BIGINT REFERENCES assets(id),
      buyer_id             BIGINT NOT NULL REFERENCES users(id),
      seller_id            BIGINT NOT NULL REFERENCES users(id),
      loan_id              BIGINT NOT NULL REFERENCES loans(id),
      principal            BIGINT NOT NULL CHECK (principal > 0),
      interest             BIGINT NOT NULL CHECK (interest >= 0),
      pay_amount           BIGINT NOT NULL CHECK (pay_amount > 0),
      fee                  BIGINT NOT NULL CHECK (fee >= 0),
      order_date           DATE NOT NULL,
      status               TEXT NOT NULL CHECK (status IN ('initial', 'processing', 'success', 'failed', 'abnormal')),
      buyer_payment_status INTEGER NOT NULL DEFAULT 0 CHECK (buyer_payment_status BETWEEN 0 AND 3),
      seller_refund_status INTEGER NOT NULL DEFAULT 0 CHECK (seller_refund_status BETWEEN 0 AND 2),
      fail_code            TEXT,
      fail_reason          TEXT,
      idempotency_key      TEXT,
      request_hash         TEXT,
      created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT credit_orders_idempotency_uq UNIQUE (buyer_id, idempotency_key)
    );
    CREATE INDEX credit_orders_status_idx ON credit_orders (status, id);
    CREATE INDEX credit_orders_note_idx ON credit_orders (note_id);
  `);
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query('DROP TABLE credit_orders');
};
