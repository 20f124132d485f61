import type { MigrationFn } from '../src/lib/migrator';

/**
 * The open-loan list (GET /api/v1/loans) from the index alone. One partial index per sort, over
 * open loans only (the list's rows; loans leave it for good once settled), keyed (sort column,
 * id) so that both orders and the keyset cursor walk it, and covering every filter column: the
 * page's ids are found, filtered, skipped (OFFSET) and counted without reading the table, and
 * only the page's rows are then read. They replace the status-led indexes of 0003, which held
 * every loan ever listed and made the filters and counts read the table; a plain status index
 * stays for the sweepers and reports that look loans up by status.
 */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    CREATE INDEX loans_open_published_idx ON loans (published_at, id)
      INCLUDE (year_rate_fin, amount, term, term_unit) WHERE status = 'open';
    CREATE INDEX loans_open_rate_idx ON loans (year_rate_fin, id)
      INCLUDE (amount, term, term_unit) WHERE status = 'open';
    CREATE INDEX loans_open_amount_idx ON loans (amount, id)
      INCLUDE (year_rate_fin, term, term_unit) WHERE status = 'open';
    CREATE INDEX loans_open_term_idx ON loans (term, id)
      INCLUDE (year_rate_fin, amount, term_unit) WHERE status = 'open';
    CREATE INDEX loans_status_idx ON loans (status);
    DROP INDEX loans_status_rate_idx;
    DROP INDEX loans_status_amount_idx;
    DROP INDEX loans_status_term_idx;
    DROP INDEX loans_status_published_idx;
  `);
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(`
    CREATE INDEX loans_status_rate_idx ON loans (status, year_rate_fin, id);
    CREATE INDEX loans_status_amount_idx ON loans (status, amount, id);
    CREATE INDEX loans_status_term_idx ON loans (status, term_unit, term, id);
    CREATE INDEX loans_status_published_idx ON loans (status, published_at DESC, id);
    DROP INDEX loans_status_idx;
    DROP INDEX loans_open_term_idx;
    DROP INDEX loans_open_amount_idx;
    DROP INDEX loans_open_rate_idx;
    DROP INDEX loans_open_published_idx;
  `);
};
