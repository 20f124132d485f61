import type { Middleware } from 'koa';
import { QueryTypes } from 'sequelize';
import type { Sequelize } from 'sequelize-typescript';
import type { PiiCipher } from '../lib/crypto';
import { AppError } from '../lib/errors';

const KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
/** A claim older than this is taken as abandoned (its request crashed) and may be retried. */
const ABANDONED_AFTER_SECONDS = 60;

interface Row {
  request_hash: string;
  status_code: number | null;
  response_body: unknown;
}

/**
 * Idempotency-Key for mutating client routes: the first request with a key claims it; its
 * response (success or business error) is stored; the same key and body later get that response
 * again (header `Idempotent-Replayed: true`), and the same key with another body gets 409
 * IDEMPOTENCY_CONFLICT. A request still running under the key gets 409 as well. Validation
 * failures (400) and unexpected failures release the key so that the client may retry. Keys are per caller and route.
 * The stored request hash is an HMAC under the data key, so no body (passwords included) can be
 * recovered from it by guessing.
 */
export function idempotency(
  sequelize: Sequelize,
  cipher: Pick<PiiCipher, 'lookupHash'>,
): Middleware {
  return async (ctx, next) => {
    const key = ctx.get('Idempotency-Key');
    if (!key) return next();
    if (!KEY.test(key)) {
      throw new AppError('VALIDATION_ERROR', 'invalid Idempotency-Key', [
        { path: 'Idempotency-Key', message: 'must be 1-128 characters of A-Z a-z 0-9 _ . : -' },
      ]);
    }
    const session = ctx.state.session as { userId: string; role: string } | undefined;
    const scope = `${session ? `${session.role}:${session.userId}` : `ip:${ctx.ip}`}:${ctx.method}:${ctx.path}`;
    // Keyed (HMAC under DATA_ENCRYPTION_KEY), not a bare SHA-256: a body may carry a password
    // (a card replacement), and a stored plain hash of it could be guessed offline.
    const requestHash = cipher.lookupHash(
      JSON.stringify((ctx.request as { body?: unknown }).body ?? null),
    );

    const claimed = await sequelize.query<{ key: string }>(
      `INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT (scope, key) DO UPDATE SET locked_at = now(), request_hash = EXCLUDED.request_hash
         WHERE idempotency_keys.status_code IS NULL
           AND idempotency_keys.request_hash = EXCLUDED.request_hash
           AND idempotency_keys.locked_at < now() - make_interval(secs => $4)
       RETURNING key`,
      { bind: [scope, key, requestHash, ABANDONED_AFTER_SECONDS], type: QueryTypes.SELECT },
    );
    if (claimed.length === 0) {
      const [row] = await sequelize.query<Row>(
        'SELECT request_hash, status_code, response_body FROM idempotency_keys WHERE scope = $1 AND key = $2',
        { bind: [scope, key], type: QueryTypes.SELECT },
      );
      if (row.request_hash !== requestHash) {
        throw new AppError(
          'IDEMPOTENCY_CONFLICT',
          'this Idempotency-Key was used with another request body',
        );
      }
      if (row.status_code === null) {
        throw new AppError(
          'IDEMPOTENCY_CONFLICT',
          'a request with this Idempotency-Key is still being processed',
        );
      }
      ctx.status = row.status_code;
      ctx.body = row.response_body ?? undefined;
      ctx.set('Idempotent-Replayed', 'true');
      return;
    }

    const store = (status: number, body: unknown) =>
      sequelize.query(
        'UPDATE idempotency_keys SET status_code = $3, response_body = $4::jsonb WHERE scope = $1 AND key = $2',
        {
          bind: [scope, key, status, JSON.stringify(body ?? null)],
        },
      );
    try {
      await next();
    } catch (err) {
      // A business answer (409, 422…) is the result of the request and is kept; a malformed
      // request (400) never ran, so the key is released for the corrected one.
      if (err instanceof AppError && err.status < 500 && err.status !== 400) {
        await store(err.status, err.toBody());
      } else {
        await sequelize.query('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2', {
          bind: [scope, key],
        });
      }
      throw err;
    }
    await store(ctx.status, ctx.body);
  };
}
