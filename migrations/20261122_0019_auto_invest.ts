import type { MigrationFn } from '../src/lib/migrator';

/**
 * Auto-invest (issue 14): one standing rule per investor, one allocation row per loan received
 * (the state the allocation job works from, found again by the recovery sweeper), one history
 * row per rule and loan the allocation reached (ordered or skipped, with the reason), and the
 * order's `source` (`manual` or `auto`).
 *
 * The queue: enabled rules ordered by `served_seq` (the order in which they were last served,
 * from one sequence, so rules served in one pass keep the order they were served in; never
 * served first), then `enabled_at`, then the investor's id.
 */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.transaction(async (transaction) => {
    const q = (sql: string) => sequelize.query(sql, { transaction });
    await q(`ALTER TABLE orders ADD COLUMN source TEXT NOT NULL DEFAULT 'manual'
               CONSTRAINT orders_source_check CHECK (source IN ('manual', 'auto'))`);
    await q(`CREATE SEQUENCE auto_invest_serve_seq`);
    await q(`
      CREATE TABLE auto_invest_rules (
        user_id            BIGINT PRIMARY KEY REFERENCES users(id),
        status             TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
        amount_per_loan    BIGINT NOT NULL CHECK (amount_per_loan > 0),
        min_year_rate      NUMERIC(9,4),
        max_year_rate      NUMERIC(9,4),
        repayment_methods  TEXT[] NOT NULL,
        max_term_days      INTEGER CHECK (max_term_days > 0),
        risk_levels        TEXT[],
        reserve_balance    BIGINT NOT NULL DEFAULT 0 CHECK (reserve_balance >= 0),
        max_total_invested BIGINT CHECK (max_total_invested > 0),
        enabled_at         TIMESTAMPTZ,
        served_seq         BIGINT,
        last_served_at     TIMESTAMPTZ,
        created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
        CHECK (min_year_rate IS NULL OR max_year_rate IS NULL OR min_year_rate <= max_year_rate)
      )`);
    await q(`CREATE INDEX auto_invest_rules_queue_idx
               ON auto_invest_rules (served_seq NULLS FIRST, enabled_at, user_id)
               WHERE status = 'enabled'`);
    await q(`
      CREATE TABLE auto_invest_allocations (
        loan_id     BIGINT PRIMARY KEY REFERENCES loans(id),
        status      TEXT NOT NULL CHECK (status IN ('pending', 'done')),
        share_cap   BIGINT NOT NULL CHECK (share_cap >= 0),
        allocated   BIGINT NOT NULL DEFAULT 0 CHECK (allocated >= 0 AND allocated <= share_cap),
        passes      INTEGER NOT NULL DEFAULT 0,
        done_at     TIMESTAMPTZ,
        created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
    await q(`CREATE INDEX auto_invest_allocations_pending_idx
               ON auto_invest_allocations (updated_at) WHERE status = 'pending'`);
    await q(`
      CREATE TABLE auto_invest_history (
        id          BIGSERIAL PRIMARY KEY,
        user_id     BIGINT NOT NULL REFERENCES users(id),
        loan_id     BIGINT NOT NULL REFERENCES loans(id),
        amount      BIGINT NOT NULL CHECK (amount > 0),
        outcome     TEXT NOT NULL CHECK (outcome IN ('ordered', 'skipped')),
        reason      TEXT,
        order_id    BIGINT REFERENCES orders(id),
        created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
        CONSTRAINT auto_invest_history_once UNIQUE (loan_id, user_id),
        CHECK ((outcome = 'ordered') = (order_id IS NOT NULL)),
        CHECK ((outcome = 'skipped') = (reason IS NOT NULL))
      )`);
    await q(`CREATE INDEX auto_invest_history_user_idx ON auto_invest_history (user_id, id DESC)`);
  });
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.transaction(async (transaction) => {
    const q = (sql: string) => sequelize.query(sql, { transaction });
    await q(`DROP TABLE auto_invest_history`);
    await q(`DROP TABLE auto_invest_allocations`);
    await q(`DROP TABLE auto_invest_rules`);
    await q(`DROP SEQUENCE auto_invest_serve_seq`);
    await q(`ALTER TABLE orders DROP COLUMN source`);
  });
};
