import type { MigrationFn } from '../src/lib/migrator';

/** Finance actions with who ran them, and student loan applications (seed item 18). */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    CREATE TABLE ops_audit (
      id         BIGSERIAL PRIMARY KEY,
      operator   TEXT NOT NULL,
      action     TEXT NOT NULL,
      args       JSONB NOT NULL DEFAULT '{}',
      result     TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX ops_audit_created_idx ON ops_audit (created_at);

    CREATE TABLE student_loans (
      id                   BIGSERIAL PRIMARY KEY,
      user_id              BIGINT NOT NULL REFERENCES users(id),
      school_name          TEXT NOT NULL,
      student_id_no        TEXT NOT NULL,
      major                TEXT NOT NULL,
      enrollment_year      INTEGER NOT NULL,
      amount               BIGINT NOT NULL CHECK (amount > 0),
      term_months          INTEGER NOT NULL CHECK (term_months > 0),
      purpose              TEXT NOT NULL,
      status               TEXT NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected', 'disbursed_offline')),
      reviewed_by          TEXT,
      review_reason        TEXT,
      reviewed_at          TIMESTAMPTZ,
      disbursed_by         TEXT,
      disbursed_at         TIMESTAMPTZ,
      disbursement_ref     TEXT,
      disbursement_amount  BIGINT,
      created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX student_loans_status_idx ON student_loans (status, created_at);
    CREATE INDEX student_loans_user_idx ON student_loans (user_id, created_at);
  `);
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`DROP TABLE student_loans; DROP TABLE ops_audit;`);
};
