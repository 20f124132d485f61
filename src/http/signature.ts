import type { Middleware } from 'koa';
import type { Redis } from 'ioredis';
import { safeEqual, sha256Hex, signPayload } from '../lib/crypto';
import { AppError } from '../lib/errors';
import type { Logger } from '../lib/logger';

/** How far X-Timestamp may be from now. */
export const SIGNATURE_WINDOW_SECONDS = 300;

/** How long a signed request's first answer is kept: its timestamp stays good that long at most. */
const ANSWER_TTL_SECONDS = 2 * SIGNATURE_WINDOW_SECONDS;

/** The first answer to a signed request, as a replay gets it again. */
interface StoredAnswer {
  status: number;
  body: unknown;
}

/**
 * Partner and gateway routes: X-Timestamp (unix seconds, within 300 s of now) and X-Signature
 * (lowercase hex HMAC-SHA256 of `${timestamp}.${rawBody}` with the party's secret). A forged or
 * stale signature is 401 INVALID_SIGNATURE. Nothing is read from the body before this passes.
 *
 * Replays (SPEC §5): a byte-identical signed request sent again inside the window (a sender
 * retrying after a timeout) is answered as the first one was, never refused. The first answer
 * of a non-GET request (status < 500, business errors included) is kept in Redis for twice the
 * window under party + sha256(method, URL, signature), and a replay gets it back (header
 * `Idempotent-Replayed: true`) without running the handler again. A replay that arrives while
 * the first is still running, or after a 5xx, runs the handler: every partner and gateway
 * operation is idempotent, so it has no second effect. GET requests are answered fresh.
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
    ctx.state.signature = signature;
    ctx.state.rawBody = raw;
    if (ctx.method === 'GET' || ctx.method === 'HEAD') return next();

    const key = `sig-answer:${party}:${sha256Hex(`${ctx.method} ${ctx.url}\n${signature}`)}`;
    const log = ctx.state.log as Logger | undefined;
    // Redis trouble only costs the shortcut: the handler is idempotent.
    const stored = await redis.get(key).catch((err: Error) => {
      log?.warn({ err: err.message }, 'signed-request answer lookup failed');
      return null;
    });
    if (stored) {
      const first = JSON.parse(stored) as StoredAnswer;
      ctx.status = first.status;
      if (first.body !== null) ctx.body = first.body;
      ctx.set('Idempotent-Replayed', 'true');
      return;
    }
    // Best effort: without the stored answer a replay runs the (idempotent) handler again.
    const remember = async (answer: StoredAnswer) => {
      try {
        await redis.set(key, JSON.stringify(answer), 'EX', ANSWER_TTL_SECONDS, 'NX');
      } catch (err) {
        log?.warn({ err: (err as Error).message }, 'signed-request answer not stored');
      }
    };
    try {
      await next();
    } catch (err) {
      if (err instanceof AppError && err.status < 500)
        await remember({ status: err.status, body: err.toBody() });
      throw err;
    }
    if (ctx.status < 500 && isJsonBody(ctx.body))
      await remember({ status: ctx.status, body: ctx.body ?? null });
  };
}

/** Plain JSON answers only (no stream or buffer): all that partner and gateway routes send. */
function isJsonBody(body: unknown): boolean {
  if (body === undefined || body === null) return true;
  if (Buffer.isBuffer(body)) return false;
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return false;
  return true;
}
