import type { MigrationFn } from '../src/lib/migrator';

/**
 * Ids 1..1000 are kept for system users (the super investor is SUPER_INVESTOR_USER_ID, 1 by
 * default): sign-ups take ids above them, so an investor who registers before the set-up has
 * seeded can never take the super investor's id. The sequence never moves back.
 */
export const up: MigrationFn = async ({ context: sequelize }) => {
  await sequelize.query(
    `SELECT setval('users_id_seq', GREATEST((SELECT COALESCE(MAX(id), 1) FROM users), (SELECT last_value FROM users_id_seq), 1000))`,
  );
};

export const down: MigrationFn = async () => {
  // Nothing to undo: ids handed out stay handed out.
};
