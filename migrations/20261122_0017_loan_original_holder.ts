import { QueryTypes } from 'sequelize';
import type { MigrationFn } from '../src/lib/migrator';
import { piiCipher } from '../src/lib/model-columns';
import type { PiiCipher } from '../src/lib/crypto';

/**
 * The partner's original loan records (`loan_originals.body`) kept the borrower's card holder
 * name in plaintext after 0015 encrypted it on `loans`: each record's `bankCardHolder` becomes
 * its ciphertext (AES-256-GCM under DATA_ENCRYPTION_KEY, as `bankCardNo` already is), in one
 * transaction. A value that already decrypts is left alone, so a record written by the new code
 * before the migration ran is not encrypted twice. `down` decrypts.
 */
const BATCH = 1_000;

const isCiphertext = (cipher: PiiCipher, v: string): boolean => {
  try {
    cipher.decrypt(v);
    return true;
  } catch {
    return false;
  }
};

function rewrite(transform: (cipher: PiiCipher, v: string) => string | null): MigrationFn {
  return async ({ context: sequelize }) => {
    const cipher = piiCipher();
    await sequelize.transaction(async (transaction) => {
      for (let after = '0'; ;) {
        const rows = await sequelize.query<{ id: string; v: string }>(
          `SELECT id::text AS id, body->>'bankCardHolder' AS v FROM loan_originals
            WHERE id > $1 AND jsonb_typeof(body->'bankCardHolder') = 'string'
            ORDER BY id LIMIT ${BATCH}`,
          { bind: [after], type: QueryTypes.SELECT, transaction },
        );
        if (rows.length === 0) return;
        const changed = rows
          .map((r) => ({ id: r.id, x: transform(cipher, r.v) }))
          .filter((r): r is { id: string; x: string } => r.x !== null);
        if (changed.length > 0)
          await sequelize.query(
            `UPDATE loan_originals o SET body = jsonb_set(o.body, '{bankCardHolder}', to_jsonb(v.x))
               FROM (SELECT unnest($1::bigint[]) AS id, unnest($2::text[]) AS x) v WHERE o.id = v.id`,
            { bind: [changed.map((r) => r.id), changed.map((r) => r.x)], transaction },
          );
        after = rows[rows.length - 1].id;
      }
    });
  };
}

export const up: MigrationFn = rewrite((cipher, v) =>
  isCiphertext(cipher, v) ? null : cipher.encrypt(v),
);

export const down: MigrationFn = rewrite((cipher, v) =>
  isCiphertext(cipher, v) ? cipher.decrypt(v) : null,
);
