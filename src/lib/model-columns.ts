import { Column, DataType, type Model } from 'sequelize-typescript';
import { getConfig } from '../../config';
import { PiiCipher } from './crypto';
import { toIdr } from './money';

/**
 * A BIGINT column read as a JS bigint and written as a string: the one place where pg's
 * string int8 becomes money.
 */
export function IdrColumn(opts: { allowNull?: boolean; field?: string } = {}): PropertyDecorator {
  return (target: object, key: string | symbol) => {
    const name = String(key);
    Column({
      type: DataType.BIGINT,
      allowNull: opts.allowNull ?? false,
      field: opts.field,
      get(this: Model) {
        const raw = this.getDataValue(name as never) as string | number | bigint | null;
        return raw === null || raw === undefined ? raw : toIdr(raw);
      },
      set(this: Model, value: bigint | string | number | null) {
        this.setDataValue(name as never, (value === null ? null : value.toString()) as never);
      },
    })(target, key);
  };
}

let cipher: PiiCipher | undefined;

/** The process's PII cipher (DATA_ENCRYPTION_KEY), for encrypted columns and migrations. */
export const piiCipher = (): PiiCipher => (cipher ??= new PiiCipher(getConfig().dataEncryptionKey));

/**
 * A TEXT column holding PII encrypted at rest (AES-256-GCM under DATA_ENCRYPTION_KEY): the
 * attribute reads and writes plaintext, the row holds only the ciphertext. Equality look-ups
 * need a separate HMAC column (`PiiCipher.lookupHash`); raw SQL must decrypt itself.
 */
export function EncryptedColumn(opts: { field: string; allowNull?: boolean }): PropertyDecorator {
  return (target: object, key: string | symbol) => {
    const name = String(key);
    Column({
      type: DataType.TEXT,
      allowNull: opts.allowNull ?? false,
      field: opts.field,
      get(this: Model) {
        const raw = this.getDataValue(name as never) as string | null | undefined;
        return raw === null || raw === undefined ? raw : piiCipher().decrypt(raw);
      },
      set(this: Model, value: string | null) {
        this.setDataValue(
          name as never,
          (value === null ? null : piiCipher().encrypt(value)) as never,
        );
      },
    })(target, key);
  };
}
