import type { MigrationFn } from '../src/lib/migrator';

/** Investors: password and KYC state on users, KYC submissions, bank cards, idempotency keys. */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    ALTER TABLE users
      ADD COLUMN password_hash TEXT,
      ADD COLUMN kyc_status TEXT NOT NULL DEFAULT 'none'
        CHECK (kyc_status IN ('none', 'pending', 'verified', 'manual_review', 'rejected')),
      ADD COLUMN last_login_at TIMESTAMPTZ,
      ADD COLUMN password_changed_at TIMESTAMPTZ;
    CREATE INDEX users_role_created_idx ON users (role, created_at);
    CREATE INDEX users_kyc_status_idx ON users (kyc_status) WHERE role = 'investor';

    CREATE TABLE kyc_verifications (
      id            BIGSERIAL PRIMARY KEY,
      user_id       BIGINT NOT NULL REFERENCES users(id),
      real_name     TEXT NOT NULL,
      nik_encrypted TEXT NOT NULL,
      nik_hash      TEXT NOT NULL,
      nik_last4     TEXT NOT NULL,
      status        TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'manual_review', 'rejected')),
      verified_by   TEXT CHECK (verified_by IN ('provider', 'admin')),
      reason        TEXT,
      reviewed_by   TEXT,
      reviewed_at   TIMESTAMPTZ,
      created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    -- One NIK, one investor; one live submission per investor (a rejected one may be redone).
    CREATE UNIQUE INDEX kyc_nik_live_uq ON kyc_verifications (nik_hash) WHERE status <> 'rejected';
    CREATE UNIQUE INDEX kyc_user_live_uq ON kyc_verifications (user_id) WHERE status <> 'rejected';
    CREATE INDEX kyc_status_created_idx ON kyc_verifications (status, created_at);

    CREATE TABLE bank_cards (
      id             BIGSERIAL PRIMARY KEY,
      user_id        BIGINT NOT NULL REFERENCES users(id),
      bank_code      TEXT NOT NULL REFERENCES banks(code),
      card_encrypted TEXT NOT NULL,
      card_hash      TEXT NOT NULL,
      card_last4     TEXT NOT NULL,
      status         TEXT NOT NULL CHECK (status IN ('active', 'replaced')),
      replaced_at    TIMESTAMPTZ,
      created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX bank_cards_user_active_uq ON bank_cards (user_id) WHERE status = 'active';
    CREATE UNIQUE INDEX bank_cards_card_active_uq ON bank_cards (card_hash) WHERE status = 'active';
    CREATE INDEX bank_cards_user_idx ON bank_cards (user_id, created_at);

    CREATE TABLE idempotency_keys (
      scope         TEXT NOT NULL,
      key           TEXT NOT NULL,
      request_hash  TEXT NOT NULL,
      status_code   INTEGER,
      response_body JSONB,
      locked_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
      created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (scope, key)
    );
    CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
  `);
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    DROP TABLE idempotency_keys;
    DROP TABLE bank_cards;
    DROP TABLE kyc_verifications;
    DROP INDEX users_kyc_status_idx;
    DROP INDEX users_role_created_idx;
    ALTER TABLE users DROP COLUMN password_changed_at, DROP COLUMN last_login_at,
      DROP COLUMN kyc_status, DROP COLUMN password_hash;
  `);
};
