import type { MigrationFn } from '../src/lib/migrator';

/** Secondary market (seed 003): notes on assets, and the assets' interest start and lineage. */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    ALTER TABLE assets
      ADD COLUMN interest_start DATE,
      ADD COLUMN parent_asset_id BIGINT REFERENCES assets(id),
      ADD COLUMN note_id BIGINT;
    UPDATE assets a SET interest_start = (l.loan_time AT TIME ZONE 'Asia/Jakarta')::date
      FROM loans l WHERE l.id = a.loan_id AND l.loan_time IS NOT NULL;

    CREATE TABLE credit_notes (
      id             BIGSERIAL PRIMARY KEY,
      asset_id       BIGINT NOT NULL REFERENCES assets(id),
      user_id        BIGINT NOT NULL REFERENCES users(id),
      loan_id        BIGINT NOT NULL REFERENCES loans(id),
      amount         BIGINT NOT NULL CHECK (amount > 0),
      traded_amount  BIGINT NOT NULL DEFAULT 0 CHECK (traded_amount >= 0),
      discount_rate  NUMERIC(9,4) NOT NULL DEFAULT 0 CHECK (discount_rate >= 0 AND discount_rate < 100),
      config         JSONB NOT NULL,
      is_closed      BOOLEAN NOT NULL DEFAULT false,
      is_cancelled   BOOLEAN NOT NULL DEFAULT false,
      end_time       TIMESTAMPTZ NOT NULL,
      closed_at      TIMESTAMPTZ,
      created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT credit_notes_no_overbuy CHECK (traded_amount <= amount)
    );
    CREATE INDEX credit_notes_open_idx ON credit_notes (end_time) WHERE NOT is_closed;
    CREATE INDEX credit_notes_user_idx ON credit_notes (user_id, created_at DESC);
    CREATE INDEX credit_notes_asset_idx ON credit_notes (asset_id);
  `);
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    DROP TABLE credit_notes;
    ALTER TABLE assets DROP COLUMN note_id, DROP COLUMN parent_asset_id, DROP COLUMN interest_start;
  `);
};
