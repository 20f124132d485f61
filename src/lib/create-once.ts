import { UniqueConstraintError } from 'sequelize';
import { AppError } from './errors';

/** A row created under an Idempotency-Key: the hash of the request that made it. */
interface Keyed {
  requestHash: string | null;
}

/**
 * Idempotent creation keyed by (owner, Idempotency-Key), one idiom for orders, credit orders,
 * recharges and withdrawals: with a key, a prior row is returned when its request hash matches
 * and refused with 409 IDEMPOTENCY_CONFLICT when it does not; otherwise `create` runs, and a
 * unique-key race it loses (two requests with one key at once) answers with the winner's row.
 * `create` returns undefined only when it created nothing and wants no replay (never with a race).
 */
export async function createOnce<T extends Keyed>(opts: {
  idempotencyKey: string | undefined;
  requestHash: string;
  /** The owner's row under this key, if any (a unique index on owner + key backs it). */
  findPrior: () => Promise<T | null>;
  create: () => Promise<T>;
  /** What the 409 says was made with the key ("another order", "another amount"). */
  conflict: string;
}): Promise<T> {
  const replay = async () => {
    const prior = await opts.findPrior();
    if (prior && prior.requestHash !== opts.requestHash)
      throw new AppError(
        'IDEMPOTENCY_CONFLICT',
        `this Idempotency-Key was used for ${opts.conflict}`,
      );
    return prior ?? undefined;
  };
  if (opts.idempotencyKey) {
    const prior = await replay();
    if (prior) return prior;
  }
  try {
    return await opts.create();
  } catch (err) {
    if (err instanceof UniqueConstraintError && opts.idempotencyKey) {
      const winner = await replay();
      if (winner) return winner;
    }
    throw err;
  }
}
