import type { Sequelize } from 'sequelize-typescript';
import type { Config } from '../config';
import { withTransaction } from './lib/db';
import { DEMO_BANKS } from './modules/banks/banks.seed';
import {
  ALLOW_NEGATIVE,
  INVESTOR_ACCOUNT_TYPES,
  PLATFORM_ACCOUNT_TYPES,
  accountCode,
} from './modules/ledger/ledger.accounts';

/** Ids 1..1000 are kept for system users (the super investor); sign-ups get ids above them. */
export const RESERVED_USER_IDS = 1000;

/**
 * Demo data, idempotent (run it any number of times): the bank list, every platform ledger
 * account, the super investor (user SUPER_INVESTOR_USER_ID) with its accounts, and the admin
 * user (ADMIN_USER; the password is checked against ADMIN_PASSWORD, never stored).
 */
export async function seedDemoData(sequelize: Sequelize, config: Readonly<Config>): Promise<void> {
  await withTransaction(sequelize, async (transaction) => {
    const q = (sql: string, bind: unknown[] = []) => sequelize.query(sql, { bind, transaction });
    for (const b of DEMO_BANKS) {
      await q(
        `INSERT INTO banks (code, name, bin_prefixes) VALUES ($1, $2, $3)
         ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, bin_prefixes = EXCLUDED.bin_prefixes, updated_at = now()`,
        [b.code, b.name, b.binPrefixes],
      );
    }
    for (const type of PLATFORM_ACCOUNT_TYPES) {
      await q(
        `INSERT INTO accounts (code, type, allow_negative) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING`,
        [accountCode({ type }), type, ALLOW_NEGATIVE.has(type)],
      );
    }
    const superId = config.superInvestorUserId;
    await q(
      `INSERT INTO users (id, role, username) VALUES ($1, 'super_investor', 'super-investor')
       ON CONFLICT (id) DO NOTHING`,
      [superId],
    );
    // That id taken by someone else (an investor who signed up before the set-up ran) is a
    // broken database, not something to paper over.
    const [holder] = (await q('SELECT role FROM users WHERE id = $1', [superId]))[0] as {
      role: string;
    }[];
    if (holder.role !== 'super_investor')
      throw new Error(
        `user ${superId} (SUPER_INVESTOR_USER_ID) exists with the role ${holder.role}: the super investor cannot be seeded there`,
      );
    for (const type of INVESTOR_ACCOUNT_TYPES) {
      await q(
        `INSERT INTO accounts (code, type, owner_user_id, allow_negative) VALUES ($1, $2, $3, false)
         ON CONFLICT (code) DO NOTHING`,
        [accountCode({ type, userId: superId }), type, superId],
      );
    }
    // The explicit id above must not collide with the sequence, which never moves back (sign-ups
    // start above the ids reserved for system users: migration 0014).
    await q(
      `SELECT setval('users_id_seq', GREATEST((SELECT MAX(id) FROM users), (SELECT last_value FROM users_id_seq), ${RESERVED_USER_IDS}))`,
    );
    await q(
      `INSERT INTO users (role, username) VALUES ('admin', $1) ON CONFLICT (username) DO NOTHING`,
      [config.admin.user],
    );
  });
}
