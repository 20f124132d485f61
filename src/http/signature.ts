import type { Middleware } from 'koa';
import type { Redis } from 'ioredis';
import { safeEqual, sha256Hex, signPayload } from '../lib/crypto';
import { AppError } from '../lib/errors';

/** How far X-Timestamp may be from now. */
export const SIGNATURE_WINDOW_SECONDS = 300;

/**
 * Partner and gateway routes: X-Timestamp (unix seconds, within 300 s of now) and X-Signature
 * (lowercase hex HMAC-SHA256 of `${timestamp}.${rawBody}` with the party's secret). A forged or
 * stale signature is 401 INVALID_SIGNATURE; so is the very same signed request seen twice
 * (replay), remembered in Redis for the window. Nothing is read from the body before this passes.
 */
export function verifySignature(
  party: 'partner' | 'gateway',
  secret: string,
  redis: Redis,
  now: () => number = Date.now,
): Middleware {
  return async (ctx, next) => {
    const timestamp = ctx.get('X-Timestamp');
    const signature = ctx.get('X-Signature');
    const fail = (why: string) => {
      throw new AppError('INVALID_SIGNATURE', `${party} signature rejected: ${why}`);
    };
    if (!/^\d{1,12}$/.test(timestamp)) fail('X-Timestamp missing or not unix seconds');
    if (Math.abs(now() / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_SECONDS)
      fail('timestamp outside the 300 s window');
    if (!/^[0-9a-f]{64}$/.test(signature)) fail('X-Signature missing or not lowercase hex');
    const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
    if (!safeEqual(signature, signPayload(secret, timestamp, raw)))
      fail('signature does not match');
    const fresh = await redis.set(
      `sig-seen:${party}:${sha256Hex(signature)}`,
      '1',
      'EX',
      2 * SIGNATURE_WINDOW_SECONDS,
      'NX',
    );
    if (fresh !== 'OK') fail('this signed request was already received (replay)');
    ctx.state.signature = signature;
    ctx.state.rawBody = raw;
    await next();
  };
}
