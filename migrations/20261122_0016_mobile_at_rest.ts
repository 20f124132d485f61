import { QueryTypes, type Transaction } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import type { MigrationFn } from '../src/lib/migrator';
import { piiCipher } from '../src/lib/model-columns';
import { mobileLookup } from '../src/modules/users/user.model';

/**
 * Users' mobile numbers move to `mobile_encrypted` (AES-256-GCM under DATA_ENCRYPTION_KEY) and
 * `mobile_hash` (keyed HMAC, unique: what login, registration and the admin filter look up by),
 * in one transaction; the plaintext column (and its unique index) goes. `down` decrypts.
 */
const BATCH = 1_000;

async function eachBatch(
  sequelize: Sequelize,
  column: string,
  transaction: Transaction,
  write: (rows: { id: string; v: string }[]) => Promise<void>,
): Promise<void> {
  for (let after = '0'; ;) {
    const rows = await sequelize.query<{ id: string; v: string }>(
      `SELECT id::text AS id, ${column} AS v FROM users
        WHERE id > $1 AND ${column} IS NOT NULL ORDER BY id LIMIT ${BATCH}`,
      { bind: [after], type: QueryTypes.SELECT, transaction },
    );
    if (rows.length === 0) return;
    await write(rows);
    after = rows[rows.length - 1].id;
  }
}

export const up: MigrationFn = async ({ context: sequelize }) => {
  const cipher = piiCipher();
  await sequelize.transaction(async (transaction) => {
    await sequelize.query(
      'ALTER TABLE users ADD COLUMN mobile_encrypted TEXT, ADD COLUMN mobile_hash TEXT',
      { transaction },
    );
    await eachBatch(sequelize, 'mobile', transaction, (rows) =>
      sequelize
        .query(
          `UPDATE users u SET mobile_encrypted = v.e, mobile_hash = v.h
             FROM (SELECT unnest($1::bigint[]) AS id, unnest($2::text[]) AS e, unnest($3::text[]) AS h) v
            WHERE u.id = v.id`,
          {
            bind: [
              rows.map((r) => r.id),
              rows.map((r) => cipher.encrypt(r.v)),
              rows.map((r) => mobileLookup(r.v)),
            ],
            transaction,
          },
        )
        .then(() => undefined),
    );
    await sequelize.query(
      `ALTER TABLE users DROP COLUMN mobile;
       CREATE UNIQUE INDEX users_mobile_hash_key ON users (mobile_hash)`,
      { transaction },
    );
  });
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  const cipher = piiCipher();
  await sequelize.transaction(async (transaction) => {
    await sequelize.query('ALTER TABLE users ADD COLUMN mobile TEXT UNIQUE', { transaction });
    await eachBatch(sequelize, 'mobile_encrypted', transaction, (rows) =>
      sequelize
        .query(
          `UPDATE users u SET mobile = v.m
             FROM (SELECT unnest($1::bigint[]) AS id, unnest($2::text[]) AS m) v WHERE u.id = v.id`,
          {
            bind: [rows.map((r) => r.id), rows.map((r) => cipher.decrypt(r.v))],
            transaction,
          },
        )
        .then(() => undefined),
    );
    await sequelize.query(
      'ALTER TABLE users DROP COLUMN mobile_encrypted, DROP COLUMN mobile_hash',
      {
        transaction,
      },
    );
  });
};
