import type { MigrationFn } from '../src/lib/migrator';

/** Users (the roles the foundation needs), banks, the ledger and the outbox. */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    CREATE TABLE users (
      id          BIGSERIAL PRIMARY KEY,
      role        TEXT NOT NULL CHECK (role IN ('investor', 'super_investor', 'admin')),
      mobile      TEXT UNIQUE,
      username    TEXT UNIQUE,
      created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
    );

    CREATE TABLE banks (
      code         TEXT PRIMARY KEY,
      name         TEXT NOT NULL,
      bin_prefixes TEXT[] NOT NULL DEFAULT '{}',
      active       BOOLEAN NOT NULL DEFAULT true,
      created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
    );

    CREATE TABLE accounts (
      id             BIGSERIAL PRIMARY KEY,
      code           TEXT NOT NULL UNIQUE,
      type           TEXT NOT NULL,
      owner_user_id  BIGINT REFERENCES users(id),
      allow_negative BOOLEAN NOT NULL,
      balance        BIGINT NOT NULL DEFAULT 0,
      created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
      CONSTRAINT accounts_balance_non_negative CHECK (allow_negative OR balance >= 0)
    );
    CREATE INDEX accounts_owner_idx ON accounts (owner_user_id) WHERE owner_user_id IS NOT NULL;

    CREATE TABLE ledger_transactions (
      id              BIGSERIAL PRIMARY KEY,
      kind            TEXT NOT NULL,
      idempotency_key TEXT NOT NULL UNIQUE,
      entries_hash    TEXT NOT NULL,
      metadata        JSONB NOT NULL DEFAULT '{}',
      created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX ledger_transactions_kind_idx ON ledger_transactions (kind, created_at);

    CREATE TABLE ledger_entries (
      id             BIGSERIAL PRIMARY KEY,
      transaction_id BIGINT NOT NULL REFERENCES ledger_transactions(id),
      account_id     BIGINT NOT NULL REFERENCES accounts(id),
      amount         BIGINT NOT NULL CHECK (amount <> 0),
      balance_after  BIGINT NOT NULL,
      memo           TEXT,
      created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, id);
    CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (transaction_id);

    -- The ledger is append-only: corrections are reversing transactions.
    CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
    END $$;
    CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
      FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
    CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
      FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

    -- Defence in depth: at commit, every ledger transaction has entries summing to zero
    -- (one check per transaction, not per entry).
    CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE total NUMERIC; n BIGINT;
    BEGIN
      SELECT COALESCE(SUM(amount), 0), COUNT(*) INTO total, n
        FROM ledger_entries WHERE transaction_id = NEW.id;
      IF total <> 0 OR n < 2 THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced (sum %, % entries)', NEW.id, total, n
          USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER ledger_transactions_balanced AFTER INSERT ON ledger_transactions
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

    CREATE TABLE outbox (
      id            BIGSERIAL PRIMARY KEY,
      queue         TEXT NOT NULL,
      job_name      TEXT NOT NULL,
      payload       JSONB NOT NULL,
      run_at        TIMESTAMPTZ,
      created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
      dispatched_at TIMESTAMPTZ,
      attempts      INTEGER NOT NULL DEFAULT 0,
      last_error    TEXT
    );
    CREATE INDEX outbox_pending_idx ON outbox (id) WHERE dispatched_at IS NULL;
  `);
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    DROP TABLE outbox;
    DROP TABLE ledger_entries;
    DROP TABLE ledger_transactions;
    DROP FUNCTION ledger_check_balanced();
    DROP FUNCTION ledger_refuse_change();
    DROP TABLE accounts;
    DROP TABLE banks;
    DROP TABLE users;
  `);
};
