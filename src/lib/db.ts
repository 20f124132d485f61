import 'reflect-metadata';
import { Sequelize } from 'sequelize-typescript';
import { DataTypes, QueryTypes, Transaction, type Sequelize as BaseSequelize } from 'sequelize';
import { now } from './clock';
import { ALL_MODELS } from '../models';

export { Transaction };

/** Options every service takes: the caller's transaction, always explicit (no CLS). */
export interface TxOptions {
  transaction: Transaction;
}

/**
 * Model timestamps (created_at, updated_at) come from the clock, so that what the recovery
 * sweepers call "idle for a while" is measured on the same time as every other decision.
 * Declared on each model before Sequelize adds its own, with the clock as the default value
 * (which Sequelize then uses on create, update, bulk create and increment alike).
 */
function clockTimestamps(attributes: Record<string, unknown>, options: Record<string, unknown>) {
  if (options.timestamps === false) return;
  for (const [option, field] of [
    ['createdAt', 'created_at'],
    ['updatedAt', 'updated_at'],
  ] as const) {
    if (options[option] === false) continue;
    const name = typeof options[option] === 'string' ? (options[option] as string) : option;
    if (attributes[name]) continue;
    attributes[name] = { type: DataTypes.DATE, allowNull: false, field, defaultValue: () => now() };
  }
}

/** One Sequelize instance per process, with every model registered. */
export function createSequelize(databaseUrl: string, opts: { poolMax?: number } = {}): Sequelize {
  return new Sequelize(databaseUrl, {
    dialect: 'postgres',
    logging: false,
    hooks: { beforeDefine: clockTimestamps as never },
    models: ALL_MODELS,
    pool: { max: opts.poolMax ?? 10, min: 0, idle: 10_000, acquire: 30_000 },
    // READ COMMITTED for every transaction, fixed when the connection opens, so that BEGIN is
    // not followed by a SET TRANSACTION round trip (whatever the server's own default).
    dialectOptions: { options: '-c default_transaction_isolation=read\\ committed' },
    define: { underscored: true, timestamps: true },
  });
}

const RETRYABLE_PG_CODES = new Set(['40001', '40P01']); // serialization failure, deadlock

function pgCode(err: unknown): string | undefined {
  const e = err as { parent?: { code?: string }; original?: { code?: string }; code?: string };
  return e?.parent?.code ?? e?.original?.code ?? e?.code;
}

/**
 * Runs `fn` in one database transaction, committed when it resolves and rolled back when it
 * throws. Retries the whole function on a serialization failure or deadlock (the work inside
 * must therefore be database-only: no network calls, no queue.add). Work that must follow the
 * commit goes in `transaction.afterCommit`.
 */
export async function withTransaction<T>(
  sequelize: BaseSequelize,
  fn: (transaction: Transaction) => Promise<T>,
  opts: { isolationLevel?: Transaction.ISOLATION_LEVELS; retries?: number } = {},
): Promise<T> {
  const retries = opts.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      // No isolation level: the connection's READ COMMITTED (createSequelize), no extra SET.
      return await sequelize.transaction({ isolationLevel: opts.isolationLevel }, (t) => fn(t));
    } catch (err) {
      const code = pgCode(err);
      if (attempt < retries && code && RETRYABLE_PG_CODES.has(code)) continue;
      throw err;
    }
  }
}

/** Typed raw SELECT inside a transaction (bind parameters $1, $2 …). */
export async function selectRows<T extends object>(
  sequelize: Sequelize,
  sql: string,
  bind: unknown[],
  opts: Partial<TxOptions> = {},
): Promise<T[]> {
  return sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT, transaction: opts.transaction });
}

export { pgCode };
