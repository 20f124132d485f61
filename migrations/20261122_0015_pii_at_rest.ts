import { QueryTypes, type Transaction } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import type { MigrationFn } from '../src/lib/migrator';
import { piiCipher } from '../src/lib/model-columns';

/**
 * Real names (KYC), student ID numbers (student loans) and borrowers' card holder names (loans)
 * move to ciphertext columns (AES-256-GCM under DATA_ENCRYPTION_KEY, as NIK and card numbers
 * are): each existing row is encrypted in batches, then the plaintext column is dropped. The
 * key is the one the app uses (config); run it with the production key set. `down` decrypts.
 */
const MOVES = [
  { table: 'kyc_verifications', plain: 'real_name', encrypted: 'real_name_encrypted' },
  { table: 'student_loans', plain: 'student_id_no', encrypted: 'student_id_no_encrypted' },
  { table: 'loans', plain: 'bank_card_holder', encrypted: 'bank_card_holder_encrypted' },
];
const BATCH = 1_000;

async function move(
  sequelize: Sequelize,
  m: { table: string; from: string; to: string },
  transform: (v: string) => string,
  transaction: Transaction,
): Promise<void> {
  await sequelize.query(`ALTER TABLE ${m.table} ADD COLUMN ${m.to} TEXT`, { transaction });
  for (let after = '0'; ;) {
    const rows = await sequelize.query<{ id: string; v: string }>(
      `SELECT id::text AS id, ${m.from} AS v FROM ${m.table} WHERE id > $1 ORDER BY id LIMIT ${BATCH}`,
      { bind: [after], type: QueryTypes.SELECT, transaction },
    );
    if (rows.length === 0) break;
    await sequelize.query(
      `UPDATE ${m.table} t SET ${m.to} = v.x
         FROM (SELECT unnest($1::bigint[]) AS id, unnest($2::text[]) AS x) v WHERE t.id = v.id`,
      { bind: [rows.map((r) => r.id), rows.map((r) => transform(r.v))], transaction },
    );
    after = rows[rows.length - 1].id;
  }
  await sequelize.query(`ALTER TABLE ${m.table} ALTER COLUMN ${m.to} SET NOT NULL`, {
    transaction,
  });
  await sequelize.query(`ALTER TABLE ${m.table} DROP COLUMN ${m.from}`, { transaction });
}

export const up: MigrationFn = async ({ context: sequelize }) => {
  const cipher = piiCipher();
  // One transaction: the plaintext columns go only when every row has its ciphertext.
  await sequelize.transaction(async (transaction) => {
    for (const m of MOVES)
      await move(
        sequelize,
        { table: m.table, from: m.plain, to: m.encrypted },
        (v) => cipher.encrypt(v),
        transaction,
      );
  });
};

export const down: MigrationFn = async ({ context: sequelize }) => {
  const cipher = piiCipher();
  await sequelize.transaction(async (transaction) => {
    for (const m of MOVES)
      await move(
        sequelize,
        { table: m.table, from: m.encrypted, to: m.plain },
        (v) => cipher.decrypt(v),
        transaction,
      );
  });
};
